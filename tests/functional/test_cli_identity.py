"""`arame account|user|quota` against the real deployment, as an admin
runs them."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.functional


def arame(dep, tmp_path, *args, check=True, **env_extra):
    env = {
        **os.environ,
        "ARAME_URL": dep.api_url,
        "ARAME_CONFIG_DIR": str(tmp_path / "cli"),
        "ARAME_PASSWORD": dep.admin_password,
        **env_extra,
    }
    exe = os.path.join(os.path.dirname(sys.executable), "arame")
    proc = subprocess.run(
        [exe, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def as_json(proc):
    return json.loads(proc.stdout)


def test_account_user_quota_lifecycle(shared_deployment, tmp_path):
    dep = shared_deployment
    arame(dep, tmp_path, "login", "--username", "admin")
    acct = as_json(
        arame(dep, tmp_path, "account", "create", "cli-acct", "-f", "json")
    )
    user = as_json(
        arame(
            dep,
            tmp_path,
            "user",
            "create",
            "cli-user",
            "--account",
            acct["id"],
            "--role",
            "reader",
            "-f",
            "json",
            ARAME_NEW_PASSWORD="cli-pw-123456",
        )
    )
    assert (user["account_id"], user["role"]) == (acct["id"], "reader")

    quota = as_json(
        arame(
            dep,
            tmp_path,
            "quota",
            "set",
            acct["id"],
            "--instances",
            "3",
            "--vcpus",
            "-1",
            "-f",
            "json",
        )
    )
    assert (quota["instances"], quota["vcpus"]) == (3, -1)
    shown = as_json(
        arame(dep, tmp_path, "quota", "show", acct["id"], "-f", "json")
    )
    assert shown["instances"] == 3 and shown["instances_in_use"] == 0

    users = as_json(
        arame(
            dep,
            tmp_path,
            "user",
            "list",
            "--account",
            acct["id"],
            "--sort=-name",
            "-f",
            "json",
        )
    )
    assert [u["username"] for u in users] == ["cli-user"]

    # The user can log in, and a disabled one no longer can.
    other = tmp_path / "other"
    arame(
        dep,
        other,
        "login",
        "--username",
        "cli-user",
        ARAME_PASSWORD="cli-pw-123456",
    )
    arame(dep, tmp_path, "user", "disable", user["id"])
    denied = arame(dep, other, "account", "show", acct["id"], check=False)
    assert denied.returncode == 1 and "401" in denied.stderr

    arame(dep, tmp_path, "user", "enable", user["id"])
    arame(
        dep,
        tmp_path,
        "user",
        "reset-password",
        user["id"],
        ARAME_NEW_PASSWORD="cli-pw-654321",
    )
    arame(
        dep,
        other,
        "login",
        "--username",
        "cli-user",
        ARAME_PASSWORD="cli-pw-654321",
    )

    busy = arame(dep, tmp_path, "account", "delete", acct["id"], check=False)
    assert busy.returncode == 1 and "409" in busy.stderr
    arame(dep, tmp_path, "user", "delete", user["id"])
    arame(dep, tmp_path, "account", "delete", acct["id"])
    listed = as_json(arame(dep, tmp_path, "account", "list", "-f", "json"))
    assert acct["id"] not in [a["id"] for a in listed]
