"""arame unit-group and arame unit against the real API (issue 15): the
VCP hands-on flow from the command line, by name throughout."""

import json

import pytest

from tests.functional.test_cli import arame

pytestmark = pytest.mark.functional


def test_unit_group_flow_by_name(shared_deployment, tmp_path):
    dep = shared_deployment

    def cli(*args, check=True):
        return arame(dep, tmp_path, *args, check=check)

    def js(*args):
        return json.loads(cli(*args, "-f", "json").stdout)

    cli("login", "--username", "admin")
    group = js("unit-group", "create", "cli-hands-on")
    assert group["name"] == "cli-hands-on"

    made = cli(
        "unit",
        "create",
        "web",
        "--unit-group",
        "cli-hands-on",
        "--flavor",
        "small",
        "--image",
        "arame-test",
        "--count",
        "2",
        "--wait",
        "-f",
        "json",
    )
    unit = json.loads(made.stdout)
    assert unit["state"] == "running" and len(unit["nodes"]) == 2
    # --wait counted the nodes as each one's build ended.
    assert "[2/2] node " in made.stderr

    added = js(
        "unit",
        "add-nodes",
        "web",
        "--unit-group",
        "cli-hands-on",
        "--count",
        "1",
        "--wait",
    )
    assert added["task_status"] == "done" and len(added["node_ids"]) == 1
    shown = js("unit", "show", "web", "--unit-group", "cli-hands-on")
    assert shown["node_count"] == 3

    off = js("unit", "power-off", "web", "--wait")
    assert off["task_status"] == "done"
    assert js("unit", "show", "web")["state"] == "power_off"
    assert js("unit", "power-on", "web", "--wait")["task_status"] == "done"

    removed = js("unit", "delete-nodes", "web", "--count", "1", "--wait")
    assert removed["task_status"] == "done"
    assert js("unit", "show", "web")["node_count"] == 2

    listed = js("unit", "list", "--unit-group", "cli-hands-on")
    assert [u["name"] for u in listed] == ["web"]

    cleanup = js("unit-group", "delete", "cli-hands-on", "--wait")
    assert cleanup["task_status"] == "done"
    gone = cli("unit-group", "show", "cli-hands-on", check=False)
    assert gone.returncode == 1 and "404" in gone.stderr
