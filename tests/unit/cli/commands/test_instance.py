import pytest

from tests.helpers.fakes import error

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
ADDRESS = {
    "network_id": "nw-aaaaaaaa",
    "ip_address": "10.0.0.5",
    "mac_address": "52:54:00:00:00:01",
    "hostname": "web1",
}
CREATE = (
    "instance",
    "create",
    "web1",
    "--flavor",
    "m1.small",
    "--image",
    "img-aaaaaaaa",
)
RUNNING = {
    **INSTANCE,
    "status": "running",
    "host": "hv1",
    "addresses": [ADDRESS],
}
SCHEDULED = {
    "step": "schedule",
    "status": "done",
    "at": "a",
    "duration_ms": 4,
    "host": None,
}
BOOTED = {
    "step": "boot",
    "status": "done",
    "at": "b",
    "duration_ms": 900,
    "host": "hv1",
}


def task(status, events, err=None):
    return {
        "id": "t-aaaaaaaa",
        "status": status,
        "resource_id": "i-aaaaaaaa",
        "action": "create",
        "error": err,
        "events": events,
    }


@pytest.fixture
def accepted(api):
    api.add(
        "POST", "/v1/instances", (202, {**INSTANCE, "task_id": "t-aaaaaaaa"})
    )


def test_create_prints_the_instance_and_its_task(run, api, accepted):
    result = run(*CREATE, "-f", "json")

    assert result.code == 0
    shown = result.json()
    assert (shown["id"], shown["status"], shown["task_id"]) == (
        "i-aaaaaaaa",
        "pending",
        "t-aaaaaaaa",
    )
    assert api.bodies("POST", "/v1/instances") == [
        {"name": "web1", "flavor": "m1.small", "image": "img-aaaaaaaa"}
    ]


def test_create_sends_optional_fields_and_user_data_file(
    run, api, accepted, tmp_path
):
    user_data = tmp_path / "cloud-init.yaml"
    user_data.write_text("#cloud-config\n")

    run(
        *CREATE,
        "--network",
        "nw-aaaaaaaa",
        "--user-data",
        str(user_data),
        "--idempotency-key",
        "k1",
    )

    body = api.bodies("POST", "/v1/instances")[0]
    assert (
        body["network"] == "nw-aaaaaaaa"
        and body["user_data"] == "#cloud-config\n"
    )
    assert api.requests[0].headers["Idempotency-Key"] == "k1"


def test_create_wait_shows_progress_then_the_placed_instance(
    run, api, accepted
):
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (200, task("running", [SCHEDULED])),
        (200, task("done", [SCHEDULED, BOOTED])),
    )
    api.add("GET", "/v1/instances/i-aaaaaaaa", (200, RUNNING))

    result = run(*CREATE, "--wait", "-f", "json")

    assert result.code == 0
    assert result.stderr.splitlines() == [
        "schedule: done (4 ms)",
        "boot: done on hv1 (900 ms)",
    ]
    shown = result.json()
    assert (shown["status"], shown["host"], shown["task_id"]) == (
        "running",
        "hv1",
        "t-aaaaaaaa",
    )
    assert shown["addresses"] == [ADDRESS]


def test_create_wait_exits_1_with_the_failed_step(run, api, accepted):
    failed = {
        "step": "schedule",
        "status": "failed",
        "at": "a",
        "duration_ms": 3,
        "host": None,
        "message": "no valid host",
    }
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (
            200,
            task(
                "failed",
                [failed],
                err={"step": "schedule", "message": "no valid host"},
            ),
        ),
    )

    result = run(*CREATE, "--wait")

    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "schedule: failed (3 ms) - no valid host",
        "Error: task t-aaaaaaaa failed at step schedule: no valid host",
    ]


def test_wait_timeout_exits_1_and_says_how_to_follow_up(run, api, accepted):
    api.add("GET", "/v1/tasks/t-aaaaaaaa", (200, task("running", [SCHEDULED])))

    result = run(*CREATE, "--wait", "--wait-timeout", "5")

    assert result.code == 1
    assert "still running after 5 s" in result.stderr
    assert "arame task show t-aaaaaaaa" in result.stderr


def test_missing_required_option_is_a_usage_error(run, api, capsys):
    # argparse reports usage errors itself, as exit status 2.
    with pytest.raises(SystemExit) as raised:
        run("instance", "create", "web1", "--image", "img-aaaaaaaa")

    assert raised.value.code == 2
    assert "required: --flavor" in capsys.readouterr().err
    assert api.requests == []


def test_list_follows_all_pages_and_passes_filters(run, api):
    api.add(
        "GET",
        "/v1/instances",
        (200, {"items": [RUNNING], "next_marker": "i-aaaaaaaa"}),
        (
            200,
            {"items": [{**INSTANCE, "id": "i-bbbbbbbb"}], "next_marker": None},
        ),
    )

    result = run(
        "instance",
        "list",
        "--status",
        "running",
        "--name",
        "web*",
        "-f",
        "json",
    )

    assert result.code == 0
    rows = result.json()
    assert [r["id"] for r in rows] == ["i-aaaaaaaa", "i-bbbbbbbb"]
    assert rows[0]["addresses"] == [ADDRESS]
    assert api.requests[0].url.params["status"] == "running"
    assert api.requests[0].url.params["name"] == "web*"
    assert api.requests[1].url.params["marker"] == "i-aaaaaaaa"


def test_list_table_shows_addresses_as_ips(run, api):
    api.add(
        "GET",
        "/v1/instances",
        (200, {"items": [RUNNING], "next_marker": None}),
    )

    result = run("instance", "list", "-c", "id", "-c", "addresses")

    assert "| i-aaaaaaaa | 10.0.0.5  |" in result.stdout
    assert "mac_address" not in result.stdout


def test_show(run, api):
    api.add("GET", "/v1/instances/i-aaaaaaaa", (200, RUNNING))

    result = run("instance", "show", "i-aaaaaaaa", "-f", "json")

    assert result.code == 0
    assert result.json() == RUNNING


def test_show_unknown_instance_is_a_clean_error(run, api):
    api.add(
        "GET",
        "/v1/instances/i-zzzzzzzz",
        (404, error("not_found", "instance i-zzzzzzzz not found")),
    )

    result = run("instance", "show", "i-zzzzzzzz")

    assert result.code == 1
    assert result.stdout == ""
    assert (
        result.stderr
        == "Error (404 not_found): instance i-zzzzzzzz not found\n"
    )


def test_conflict_is_reported_as_in_the_contract(run, api):
    api.add(
        "POST",
        "/v1/instances/i-aaaaaaaa/actions",
        (409, error("conflict", "instance i-aaaaaaaa is already running")),
    )

    result = run("instance", "start", "i-aaaaaaaa")

    assert result.code == 1
    assert (
        result.stderr
        == "Error (409 conflict): instance i-aaaaaaaa is already running\n"
    )


@pytest.mark.parametrize("action", ["start", "stop", "reboot"])
def test_actions_send_the_action_and_show_the_task(run, api, action):
    api.add(
        "POST",
        "/v1/instances/i-aaaaaaaa/actions",
        (202, {"task_id": "t-bbbbbbbb"}),
    )

    result = run("instance", action, "i-aaaaaaaa", "-f", "json")

    assert result.code == 0
    assert result.json() == {
        "id": "i-aaaaaaaa",
        "action": action,
        "task_id": "t-bbbbbbbb",
    }
    assert api.bodies("POST", "/v1/instances/i-aaaaaaaa/actions") == [
        {"action": action}
    ]


def test_delete_wait_reports_the_task_status(run, api):
    api.add(
        "DELETE",
        "/v1/instances/i-aaaaaaaa",
        (202, {**RUNNING, "task_id": "t-cccccccc"}),
    )
    stopped = {
        "step": "destroy",
        "status": "done",
        "at": "c",
        "duration_ms": 50,
        "host": "hv1",
    }
    api.add(
        "GET",
        "/v1/tasks/t-cccccccc",
        (200, {**task("done", [stopped]), "id": "t-cccccccc"}),
    )

    result = run("instance", "delete", "i-aaaaaaaa", "--wait", "-f", "json")

    assert result.code == 0
    assert result.json()["task_status"] == "done"
    assert result.stderr == "destroy: done on hv1 (50 ms)\n"


def test_console_prints_the_output(run, api):
    console = {"output": "web1 login:", "truncated": True}
    api.add("GET", "/v1/instances/i-aaaaaaaa/console", (200, console))

    result = run("instance", "console", "i-aaaaaaaa")

    assert result.code == 0
    assert result.stdout == "web1 login:\n"
    assert "last 64 KiB" in result.stderr


def test_debug_keeps_the_traceback_for_developers(run, api):
    api.add(
        "GET", "/v1/instances/i-zzzzzzzz", (404, error("not_found", "gone"))
    )

    result = run("--debug", "instance", "show", "i-zzzzzzzz")

    assert result.code == 1
    assert "Traceback" in result.stderr
