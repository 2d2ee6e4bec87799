"""arame unit-group ... and arame unit ... against the stand-in API."""

import pytest

GROUP = {
    "id": "ug-aaaaaaaa",
    "name": "handson",
    "account_id": "a-aaaaaaaa",
    "state": "running",
    "units": ["un-aaaaaaaa"],
    "node_count": 2,
    "created_at": "2030-01-01T00:00:00Z",
    "updated_at": "2030-01-01T00:00:00Z",
}
NODE = {
    "id": "i-aaaaaaaa",
    "name": "web-1",
    "status": "running",
    "power_state": "running",
    "host": "hv1",
    "ip_address": "10.0.0.5",
    "addresses": ["10.0.0.5"],
    "status_reason": None,
    "created_at": "2030-01-01T00:00:00Z",
}
UNIT = {
    "id": "un-aaaaaaaa",
    "name": "web",
    "unit_group": "ug-aaaaaaaa",
    "unit_group_name": "handson",
    "account_id": "a-aaaaaaaa",
    "spec": {"provider": "vm", "flavor": "small", "image": "img-aaaaaaaa"},
    "state": "running",
    "node_count": 2,
    "nodes": [NODE, {**NODE, "id": "i-bbbbbbbb", "name": "web-2"}],
    "errors": [],
    "created_at": "2030-01-01T00:00:00Z",
    "updated_at": "2030-01-01T00:00:00Z",
}


def node_event(name, status="done"):
    return {"step": f"node {name}", "status": status, "host": "hv1"}


def task(status, events, err=None):
    return {
        "id": "t-aaaaaaaa",
        "status": status,
        "events": events,
        "error": err,
    }


def test_group_create_list_show(run, api):
    api.add("POST", "/v1/unit_groups", (201, {**GROUP, "units": []}))
    api.add("GET", "/v1/unit_groups", (200, {"items": [GROUP]}))
    api.add("GET", "/v1/unit_groups/handson", (200, GROUP))

    made = run("unit-group", "create", "handson", "-f", "json")
    listed = run("unit-group", "list", "-f", "json")
    shown = run("unit-group", "show", "handson", "-f", "json")

    assert made.code == listed.code == shown.code == 0, made.stderr
    assert api.bodies("POST", "/v1/unit_groups") == [{"name": "handson"}]
    assert listed.json() == [
        {
            "id": "ug-aaaaaaaa",
            "name": "handson",
            "state": "running",
            "node_count": 2,
            "created_at": "2030-01-01T00:00:00Z",
        }
    ]
    assert shown.json()["units"] == ["un-aaaaaaaa"]


def test_group_delete_waits_counting_the_nodes(run, api):
    api.add("GET", "/v1/unit_groups/handson", (200, GROUP))
    api.add(
        "DELETE",
        "/v1/unit_groups/handson",
        (
            202,
            {
                "id": "ug-aaaaaaaa",
                "status": "deleting",
                "task_id": "t-aaaaaaaa",
            },
        ),
    )
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (200, task("running", [node_event("web-1")])),
        (200, task("done", [node_event("web-1"), node_event("web-2")])),
    )

    result = run("unit-group", "delete", "handson", "--wait", "-f", "json")

    assert result.code == 0, result.stderr
    assert result.stderr.splitlines() == [
        "[1/2] node web-1: done on hv1",
        "[2/2] node web-2: done on hv1",
    ]
    assert result.json() == {
        "id": "ug-aaaaaaaa",
        "action": "delete",
        "task_id": "t-aaaaaaaa",
        "task_status": "done",
    }


def test_unit_create_sends_the_spec_and_waits(run, api, tmp_path):
    script = tmp_path / "init.sh"
    script.write_text("#!/bin/sh\n")
    api.add(
        "POST",
        "/v1/units",
        (202, {**UNIT, "state": "booting", "task_id": "t-aaaaaaaa"}),
    )
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (200, task("done", [node_event("web-1"), node_event("web-2")])),
    )
    api.add("GET", "/v1/units/un-aaaaaaaa", (200, UNIT))

    result = run(
        "unit",
        "create",
        "web",
        "--unit-group",
        "handson",
        "--flavor",
        "small",
        "--image",
        "arame-test",
        "--count",
        "2",
        "--root-gb",
        "15",
        "--key-pair",
        "me",
        "--key-pair",
        "you",
        "--user-data",
        str(script),
        "--wait",
        "-f",
        "json",
    )

    assert result.code == 0, result.stderr
    assert api.bodies("POST", "/v1/units") == [
        {
            "unit_group": "handson",
            "name": "web",
            "count": 2,
            "spec": {
                "provider": "vm",
                "flavor": "small",
                "image": "arame-test",
                "root_gb": 15,
                "key_pairs": ["me", "you"],
                "user_data": "#!/bin/sh\n",
            },
        }
    ]
    shown = result.json()
    assert (shown["state"], shown["task_id"]) == ("running", "t-aaaaaaaa")
    assert [n["ip_address"] for n in shown["nodes"]] == ["10.0.0.5"] * 2
    assert result.stderr.splitlines()[-1] == "[2/2] node web-2: done on hv1"


def test_unit_create_with_addresses(run, api):
    api.add("POST", "/v1/units", (202, {**UNIT, "task_id": "t-aaaaaaaa"}))

    run(
        "unit",
        "create",
        "web",
        "--unit-group",
        "ug-aaaaaaaa",
        "--flavor",
        "small",
        "--image",
        "img-aaaaaaaa",
        "--provider",
        "bm",
        "--ip-address",
        "10.0.0.5",
        "--ip-address",
        "10.0.0.6",
        "--no-ha",
    )

    body = api.bodies("POST", "/v1/units")[0]
    assert body["ip_addresses"] == ["10.0.0.5", "10.0.0.6"]
    assert "count" not in body
    assert body["spec"]["provider"] == "bm"
    assert body["spec"]["ha_enabled"] is False


def test_unit_wait_that_fails_names_the_failed_nodes(run, api):
    api.add("POST", "/v1/units", (202, {**UNIT, "task_id": "t-aaaaaaaa"}))
    failed = {**node_event("web-2", "failed"), "message": "no valid host"}
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (
            200,
            task(
                "failed",
                [node_event("web-1"), failed],
                {"step": "nodes", "message": "web-2: no valid host"},
            ),
        ),
    )

    result = run(
        "unit",
        "create",
        "web",
        "--unit-group",
        "handson",
        "--flavor",
        "small",
        "--image",
        "img-aaaaaaaa",
        "--count",
        "2",
        "--wait",
    )

    assert result.code == 1
    assert result.stderr.splitlines() == [
        "[1/2] node web-1: done on hv1",
        "[2/2] node web-2: failed on hv1 - no valid host",
        "Error: task t-aaaaaaaa failed at step nodes: web-2: no valid host",
    ]


def test_unit_list_and_show(run, api):
    api.add("GET", "/v1/units", (200, {"items": [UNIT]}))
    api.add("GET", "/v1/units/web", (200, UNIT))

    listed = run("unit", "list", "--unit-group", "handson", "-f", "json")
    shown = run("unit", "show", "web", "--unit-group", "handson")

    assert listed.json() == [
        {
            "id": "un-aaaaaaaa",
            "name": "web",
            "unit_group_name": "handson",
            "state": "running",
            "node_count": 2,
            "provider": "vm",
            "flavor": "small",
        }
    ]
    assert api.requests[0].url.params["unit_group"] == "handson"
    assert api.requests[1].url.params["unit_group"] == "handson"
    assert "web-1 i-aaaaaaaa running 10.0.0.5 hv1" in shown.stdout
    assert "provider=vm, flavor=small" in shown.stdout


@pytest.mark.parametrize(
    "argv, body",
    [
        (["add-nodes", "--count", "2"], {"action": "add_nodes", "count": 2}),
        (
            ["add-nodes", "--ip-address", "10.0.0.7"],
            {"action": "add_nodes", "ip_addresses": ["10.0.0.7"]},
        ),
        (
            ["delete-nodes", "--ip-address", "10.0.0.5"],
            {"action": "delete_nodes", "ip_addresses": ["10.0.0.5"]},
        ),
        (
            ["delete-nodes", "--node", "web-1", "--node", "i-bbbbbbbb"],
            {"action": "delete_nodes", "node_ids": ["web-1", "i-bbbbbbbb"]},
        ),
        (
            ["delete-nodes", "--count", "1"],
            {"action": "delete_nodes", "count": 1},
        ),
        (["power-on"], {"action": "power_on"}),
        (
            ["power-off", "--node", "web-2"],
            {"action": "power_off", "node_ids": ["web-2"]},
        ),
    ],
)
def test_node_actions_send_their_body(run, api, argv, body):
    api.add(
        "POST",
        "/v1/units/web/actions",
        (
            202,
            {
                "id": "un-aaaaaaaa",
                "task_id": "t-aaaaaaaa",
                "node_ids": ["i-aaaaaaaa", "i-bbbbbbbb"],
            },
        ),
    )

    result = run("unit", argv[0], "web", *argv[1:], "-f", "json")

    assert result.code == 0, result.stderr
    assert api.bodies("POST", "/v1/units/web/actions") == [body]
    assert result.json() == {
        "id": "un-aaaaaaaa",
        "action": body["action"],
        "task_id": "t-aaaaaaaa",
        "node_ids": ["i-aaaaaaaa", "i-bbbbbbbb"],
    }


def test_an_action_in_a_named_group_finds_the_unit_id_first(run, api):
    api.add("GET", "/v1/units/web", (200, UNIT))
    api.add(
        "POST",
        "/v1/units/un-aaaaaaaa/actions",
        (202, {"id": "un-aaaaaaaa", "task_id": "t-aaaaaaaa", "node_ids": []}),
    )
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (200, task("done", [])),
    )

    result = run(
        "unit", "power-off", "web", "--unit-group", "handson", "--wait"
    )

    assert result.code == 0, result.stderr
    assert api.requests[0].url.params["unit_group"] == "handson"
    assert api.bodies("POST", "/v1/units/un-aaaaaaaa/actions") == [
        {"action": "power_off"}
    ]


def test_add_nodes_needs_a_count_or_addresses(run, api, capsys):
    with pytest.raises(SystemExit) as raised:
        run("unit", "add-nodes", "web")

    assert raised.value.code == 2
    assert api.requests == []


def test_unit_delete_waits(run, api):
    api.add("GET", "/v1/units/web", (200, UNIT))
    api.add(
        "DELETE",
        "/v1/units/un-aaaaaaaa",
        (
            202,
            {
                "id": "un-aaaaaaaa",
                "status": "deleting",
                "task_id": "t-aaaaaaaa",
            },
        ),
    )
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (200, task("done", [node_event("web-1"), node_event("web-2")])),
    )

    result = run("unit", "delete", "web", "--wait", "-f", "json")

    assert result.code == 0, result.stderr
    assert result.json()["task_status"] == "done"
    assert result.stderr.splitlines()[0] == "[1/2] node web-1: done on hv1"
