"""The `arame` CLI against the real deployment, as a user runs it."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.functional


def arame(dep, tmp_path, *args, check=True):
    env = dict(
        os.environ,
        ARAME_URL=dep.api_url,
        ARAME_CONFIG_DIR=str(tmp_path / "cli"),
        ARAME_PASSWORD=dep.admin_password,
    )
    exe = os.path.join(os.path.dirname(sys.executable), "arame")
    proc = subprocess.run(
        [exe, *args], capture_output=True, text=True, env=env, timeout=120
    )
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def test_login_create_wait_list_delete(shared_deployment, tmp_path):
    dep = shared_deployment
    arame(dep, tmp_path, "login", "--username", "admin")
    creds = tmp_path / "cli" / "credentials.json"
    assert oct(creds.stat().st_mode & 0o777) == "0o600"

    image = arame(
        dep, tmp_path, "image", "list", "-f", "value", "-c", "id"
    ).stdout.split()[0]
    made = arame(
        dep,
        tmp_path,
        "instance",
        "create",
        "cli-vm",
        "--flavor",
        "small",
        "--image",
        image,
        "--wait",
        "-f",
        "json",
    )
    inst = json.loads(made.stdout)
    assert inst["status"] == "running" and inst["host"]
    # --wait showed the steps as they happened.
    assert "schedule" in made.stderr and "spawn" in made.stderr

    listed = json.loads(
        arame(
            dep, tmp_path, "instance", "list", "--name", "cli-*", "-f", "json"
        ).stdout
    )
    assert [i["id"] for i in listed] == [inst["id"]]

    task = json.loads(
        arame(
            dep, tmp_path, "task", "show", inst["task_id"], "-f", "json"
        ).stdout
    )
    assert task["status"] == "done"

    hosts = arame(dep, tmp_path, "host", "list").stdout
    assert "arame-scheduler up" in hosts

    bad = arame(dep, tmp_path, "instance", "start", inst["id"], check=False)
    assert bad.returncode != 0 and "409" in bad.stderr
    assert "Traceback" not in bad.stderr

    arame(dep, tmp_path, "instance", "delete", inst["id"], "--wait")
    shown = json.loads(
        arame(
            dep, tmp_path, "instance", "show", inst["id"], "-f", "json"
        ).stdout
    )
    assert shown["status"] == "terminated"


def test_key_pair_generated_into_a_private_file(shared_deployment, tmp_path):
    dep = shared_deployment
    arame(dep, tmp_path, "login", "--username", "admin")
    pem = tmp_path / "deploy.pem"
    made = json.loads(
        arame(
            dep,
            tmp_path,
            "key-pair",
            "create",
            "cli-key",
            "--private-key-file",
            str(pem),
            "-f",
            "json",
        ).stdout
    )
    assert "private_key" not in made
    assert oct(pem.stat().st_mode & 0o777) == "0o600"
    # The private key on disk matches the public key the cloud keeps.
    pub = subprocess.run(
        ["ssh-keygen", "-y", "-f", str(pem)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert pub.split()[:2] == made["public_key"].split()[:2]
    listed = json.loads(
        arame(dep, tmp_path, "key-pair", "list", "-f", "json").stdout
    )
    assert [k["name"] for k in listed] == ["cli-key"]
