"""arame host evacuate HOST [--wait]."""

ANSWER = {
    "host": "hv1",
    "state": "evacuating",
    "fenced_at": None,
    "tasks": [
        {"instance_id": "i-aaaaaaaa", "task_id": "t-aaaaaaaa", "new": True},
        {"instance_id": "i-bbbbbbbb", "task_id": "t-bbbbbbbb", "new": False},
    ],
    "not_evacuated": [
        {
            "instance_id": "i-cccccccc",
            "reason": "host hv1 is down; not evacuated: ha_enabled is false",
        }
    ],
}


def task(tid, status, err=None):
    return {
        "id": tid,
        "status": status,
        "resource_id": "i-x",
        "action": "evacuate",
        "error": err,
        "events": [],
    }


def test_lists_a_task_per_instance_and_those_left(run, api):
    api.add("POST", "/v1/hosts/hv1/evacuate", (202, ANSWER))
    result = run("host", "evacuate", "hv1", "-f", "json")
    assert result.code == 0, result.stderr
    rows = result.json()
    assert [(r["instance_id"], r["result"]) for r in rows] == [
        ("i-aaaaaaaa", "queued"),
        ("i-bbbbbbbb", "already evacuating"),
        ("i-cccccccc", "not evacuated"),
    ]
    assert "ha_enabled is false" in rows[2]["reason"]


def test_wait_shows_where_each_landed_and_exits_1_on_a_failure(run, api):
    api.add("POST", "/v1/hosts/hv1/evacuate", (202, ANSWER))
    api.add("GET", "/v1/tasks/t-aaaaaaaa", (200, task("t-aaaaaaaa", "done")))
    api.add(
        "GET",
        "/v1/tasks/t-bbbbbbbb",
        (
            200,
            task(
                "t-bbbbbbbb",
                "failed",
                {"step": "schedule", "message": "no valid host"},
            ),
        ),
    )
    api.add(
        "GET",
        "/v1/instances/i-aaaaaaaa",
        (200, {"id": "i-aaaaaaaa", "host": "hv2", "status": "running"}),
    )
    result = run("host", "evacuate", "hv1", "--wait", "-f", "json")
    assert result.code == 1
    rows = {r["instance_id"]: r for r in result.json()}
    assert (rows["i-aaaaaaaa"]["result"], rows["i-aaaaaaaa"]["host"]) == (
        "done",
        "hv2",
    )
    assert rows["i-bbbbbbbb"]["result"] == "failed"
    assert "no valid host" in rows["i-bbbbbbbb"]["reason"]
    assert "1 instance(s) of hv1 were not evacuated" in result.stderr


def test_an_up_host_is_an_error(run, api):
    from tests.helpers.fakes import error

    api.add(
        "POST",
        "/v1/hosts/hv2/evacuate",
        (409, error("conflict", "host hv2 is up")),
    )
    result = run("host", "evacuate", "hv2")
    assert result.code == 1
    assert "host hv2 is up" in result.stderr
