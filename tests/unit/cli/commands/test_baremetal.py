"""`arame baremetal node ...`: the password from a file or a prompt, never
argv; actions with --wait show the node as the task left it."""

import pytest

from arame.cli import registry
from arame.cli.commands import baremetal

NODE = {
    "id": "bm-abcd1234",
    "name": "n1",
    "provision_state": "enroll",
    "status": "enroll",
    "power_state": None,
    "maintenance": False,
    "instance_id": None,
    "cpus": 4,
    "memory_mb": 4096,
    "disk_gb": 20,
    "macs": ["52:54:00:00:00:01"],
}
URL = "/v1/baremetal/nodes"

COMMANDS = {
    "baremetal node create": baremetal.CreateNode,
    "baremetal node list": baremetal.ListNode,
    "baremetal node show": baremetal.ShowNode,
    "baremetal node manage": baremetal.ManageNode,
    "baremetal node provide": baremetal.ProvideNode,
    "baremetal node delete": baremetal.DeleteNode,
}


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    for name, cls in COMMANDS.items():
        monkeypatch.setitem(registry.COMMANDS, name, cls)


def test_create_reads_the_password_from_a_file(run, api, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("file-s3cret\nignored\n")
    api.add("POST", URL, (201, NODE))
    result = run(
        "baremetal",
        "node",
        "create",
        "n1",
        "--bmc-address",
        "10.0.0.5",
        "--bmc-username",
        "admin",
        "--bmc-password-file",
        str(secret),
        "--mac",
        "52:54:00:00:00:01",
        "--cpus",
        "4",
        "--memory",
        "4096",
        "--disk",
        "20",
        "-f",
        "json",
    )
    assert result.code == 0, result.stderr
    body = api.bodies("POST", URL)[0]
    assert body["bmc_password"] == "file-s3cret"
    assert body["macs"] == ["52:54:00:00:00:01"] and body["bmc_port"] == 623
    assert "resource_class" not in body
    assert result.json()["id"] == NODE["id"]
    assert "file-s3cret" not in result.stdout + result.stderr


def test_list_and_show(run, api):
    api.add("GET", URL, (200, {"items": [NODE], "next_marker": None}))
    api.add("GET", f"{URL}/{NODE['id']}", (200, NODE))
    listed = run("baremetal", "node", "list", "-f", "json")
    assert listed.json()[0]["provision_state"] == "enroll"
    shown = run("baremetal", "node", "show", NODE["id"], "-f", "json")
    assert shown.json()["name"] == "n1"


def test_manage_waits_then_shows_the_node(run, api):
    api.add(
        "POST",
        f"{URL}/{NODE['id']}/actions",
        (202, {**NODE, "task_id": "t-abcd1234"}),
    )
    api.add(
        "GET",
        "/v1/tasks/t-abcd1234",
        (
            200,
            {
                "id": "t-abcd1234",
                "status": "done",
                "resource_id": NODE["id"],
                "action": "manage",
                "step": None,
                "error": None,
                "events": [],
            },
        ),
    )
    api.add(
        "GET",
        f"{URL}/{NODE['id']}",
        (200, {**NODE, "provision_state": "manageable"}),
    )
    result = run(
        "baremetal", "node", "manage", NODE["id"], "--wait", "-f", "json"
    )
    assert result.code == 0, result.stderr
    assert result.json()["provision_state"] == "manageable"
    assert api.bodies("POST", f"{URL}/{NODE['id']}/actions") == [
        {"action": "manage"}
    ]


def test_delete(run, api):
    api.add("DELETE", f"{URL}/{NODE['id']}", (204, None))
    assert run("baremetal", "node", "delete", NODE["id"]).code == 0
