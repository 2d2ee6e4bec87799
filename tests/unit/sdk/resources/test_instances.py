import pytest

from arame.sdk import ArameError

INSTANCE = {
    "id": "i-aaaaaaaa",
    "name": "web1",
    "hostname": "web1",
    "status": "pending",
    "status_reason": None,
    "flavor": "m1.small",
    "image": "img-aaaaaaaa",
    "host": None,
    "account_id": "a-aaaaaaaa",
    "addresses": [],
    "created_at": "2030-01-01T00:00:00Z",
    "updated_at": "2030-01-01T00:00:00Z",
}


def test_create_sends_the_body_and_returns_the_task(client, api):
    api.add(
        "POST", "/v1/instances", (202, {**INSTANCE, "task_id": "t-aaaaaaaa"})
    )

    created = client.instances.create(
        "web1",
        "m1.small",
        "img-aaaaaaaa",
        network="nw-aaaaaaaa",
        key_pair=None,
    )

    assert created["task_id"] == "t-aaaaaaaa"
    assert api.bodies("POST", "/v1/instances") == [
        {
            "name": "web1",
            "flavor": "m1.small",
            "image": "img-aaaaaaaa",
            "network": "nw-aaaaaaaa",
        }
    ]
    assert "Idempotency-Key" not in api.requests[0].headers


def test_create_passes_the_idempotency_key(client, api):
    api.add(
        "POST", "/v1/instances", (202, {**INSTANCE, "task_id": "t-aaaaaaaa"})
    )

    client.instances.create(
        "web1", "m1.small", "img-aaaaaaaa", idempotency_key="k-123"
    )

    assert api.requests[0].headers["Idempotency-Key"] == "k-123"
    assert "idempotency_key" not in api.bodies("POST", "/v1/instances")[0]


def test_get_delete_action_console_use_the_instance_paths(client, api):
    api.add("GET", "/v1/instances/i-aaaaaaaa", (200, INSTANCE))
    api.add(
        "DELETE",
        "/v1/instances/i-aaaaaaaa",
        (202, {**INSTANCE, "task_id": "t-1"}),
    )
    api.add(
        "POST", "/v1/instances/i-aaaaaaaa/actions", (202, {"task_id": "t-2"})
    )
    console = {"output": "login:", "truncated": False}
    api.add("GET", "/v1/instances/i-aaaaaaaa/console", (200, console))

    assert client.instances.get("i-aaaaaaaa") == INSTANCE
    assert client.instances.delete("i-aaaaaaaa")["task_id"] == "t-1"
    assert client.instances.action("i-aaaaaaaa", "reboot") == {
        "task_id": "t-2"
    }
    assert client.instances.console("i-aaaaaaaa") == console
    assert api.bodies("POST", "/v1/instances/i-aaaaaaaa/actions") == [
        {"action": "reboot"}
    ]


def test_an_id_cannot_reach_another_route(client, api):
    # Not shaped as an id: a name, looked up in the query, not the path.
    api.add("GET", "/v1/instances", (200, {"items": [], "next_marker": None}))
    with pytest.raises(ArameError):
        client.instances.get("../hosts")
    assert api.requests[0].url.path == "/v1/instances"
    assert api.requests[0].url.params["name"] == "../hosts"
    # A manager whose API takes names in the path quotes them.
    with pytest.raises(ArameError):  # the fake answers 404 for unknown paths
        client.unit_groups.get("../hosts")
    assert api.requests[1].url.raw_path == b"/v1/unit_groups/..%2Fhosts"
