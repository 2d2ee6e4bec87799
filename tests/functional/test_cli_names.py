"""Names wherever ids are taken, as a new user types them (issue 15):
the CLI and the SDK against the real API on MariaDB, whose collation
compares names case-insensitively."""

import json

import httpx
import pytest

from arame.sdk.errors import NotFound
from tests.functional.test_cli import arame

pytestmark = pytest.mark.functional


def test_an_image_name_in_the_api_is_refused_in_words(shared_deployment):
    client = shared_deployment.client()
    r = httpx.post(
        f"{shared_deployment.api_url}/v1/instances",
        json={"name": "web1", "flavor": "small", "image": "arame-test"},
        headers={"Authorization": f"Bearer {client.token}"},
    )

    assert r.status_code == 422
    assert r.json()["error"]["message"] == (
        "image: expected an image id such as img-1a2b3c4d"
    )


def test_the_cli_takes_names_and_refuses_an_ambiguous_one(
    shared_deployment, tmp_path
):
    dep = shared_deployment
    arame(dep, tmp_path, "login", "--username", "admin")

    def create(name):
        out = arame(
            dep,
            tmp_path,
            "instance",
            "create",
            name,
            "--flavor",
            "small",
            "--image",
            "arame-test",
            "--wait",
            "-f",
            "json",
        )
        return json.loads(out.stdout)

    first = create("first")
    assert first["status"] == "running"

    shown = json.loads(
        arame(dep, tmp_path, "instance", "show", "first", "-f", "json").stdout
    )
    assert shown["id"] == first["id"]

    second = create("first")
    both = arame(dep, tmp_path, "instance", "stop", "first", check=False)
    assert both.returncode == 1
    [line] = both.stderr.splitlines()
    assert line.startswith("Error: 2 instances are named 'first': ")
    assert first["id"] in line and second["id"] in line
    assert "Traceback" not in both.stderr

    for inst in (first, second):
        arame(dep, tmp_path, "instance", "delete", inst["id"], "--wait")
    # Terminated instances no longer answer to the name.
    gone = arame(dep, tmp_path, "instance", "show", "first", check=False)
    assert gone.returncode == 1
    assert "no instance named 'first'" in gone.stderr


def test_the_sdk_finds_exact_names_only(shared_deployment):
    client = shared_deployment.client()
    kp = client.key_pairs.create("CaseKey")
    try:
        assert client.key_pairs.get("CaseKey")["id"] == kp["id"]
        # MariaDB's `name = 'casekey'` matches CaseKey: not the SDK.
        with pytest.raises(NotFound, match="no key pair named 'casekey'"):
            client.key_pairs.get("casekey")
        assert client.images.resolve("arame-test").startswith("img-")
        sg = client.security_groups.create("names-sg")
        try:
            assert client.security_groups.resolve("names-sg") == sg["id"]
        finally:
            client.security_groups.delete("names-sg")
    finally:
        client.key_pairs.delete("CaseKey")
    with pytest.raises(NotFound):
        client.key_pairs.get("CaseKey")
