from tests.helpers.fakes import error

TASK = {
    "id": "t-aaaaaaaa",
    "status": "failed",
    "resource_id": "i-aaaaaaaa",
    "action": "create",
    "error": {"step": "boot", "message": "no disk"},
    "events": [
        {
            "step": "boot",
            "status": "failed",
            "at": "a",
            "duration_ms": 30,
            "host": "hv1",
        }
    ],
    "created_at": "2030-01-01T00:00:00Z",
    "updated_at": "2030-01-01T00:00:01Z",
}


def test_show_json_keeps_error_and_events_structured(run, api):
    api.add("GET", "/v1/tasks/t-aaaaaaaa", (200, TASK))

    result = run("task", "show", "t-aaaaaaaa", "-f", "json")

    assert result.code == 0
    assert result.json() == TASK


def test_show_table_is_readable(run, api):
    api.add("GET", "/v1/tasks/t-aaaaaaaa", (200, TASK))

    result = run("task", "show", "t-aaaaaaaa")

    assert "boot: no disk" in result.stdout
    assert "boot: failed on hv1 (30 ms)" in result.stdout


def test_list_by_resource(run, api):
    api.add("GET", "/v1/tasks", (200, {"items": [TASK], "next_marker": None}))

    result = run("task", "list", "--resource-id", "i-aaaaaaaa", "-f", "json")

    assert result.json() == [
        {
            "id": "t-aaaaaaaa",
            "action": "create",
            "resource_id": "i-aaaaaaaa",
            "status": "failed",
            "created_at": "2030-01-01T00:00:00Z",
            "updated_at": "2030-01-01T00:00:01Z",
        }
    ]
    assert api.requests[0].url.params["resource_id"] == "i-aaaaaaaa"


def test_unknown_task(run, api):
    api.add(
        "GET",
        "/v1/tasks/t-zzzzzzzz",
        (404, error("not_found", "task t-zzzzzzzz not found")),
    )

    result = run("task", "show", "t-zzzzzzzz")

    assert (result.code, result.stderr) == (
        1,
        "Error (404 not_found): task t-zzzzzzzz not found\n",
    )
