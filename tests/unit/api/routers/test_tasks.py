"""/v1/tasks: what happened to a request, step by step."""

import pytest

from arame.common import ids, tasks
from arame.common.db import engine, models


def test_task_has_the_documented_shape(client, admin, create):
    tid = create(admin).json()["task_id"]
    with engine.session() as s:
        tasks.set_status(s, tid, "running")
        tasks.add_event(
            s, tid, "schedule", "done", host="hv1", duration_ms=12.5
        )
        tasks.fail(s, tid, "spawn", "RuntimeError: boom")
    r = client.get(f"/v1/tasks/{tid}", headers=admin.headers)
    assert r.status_code == 200
    body = r.json()
    assert {"id", "status", "resource_id", "action", "error", "events"} <= set(
        body
    )
    assert body["id"] == tid
    assert body["status"] == "failed"
    assert body["action"] == "create"
    assert ids.is_valid("instance", body["resource_id"])
    assert body["error"] == {"step": "spawn", "message": "RuntimeError: boom"}
    (event,) = body["events"]
    assert {"step", "status", "at", "duration_ms", "host"} <= set(event)
    assert (
        event["step"],
        event["status"],
        event["host"],
        event["duration_ms"],
    ) == ("schedule", "done", "hv1", 12.5)
    assert event["at"].endswith(("Z", "+00:00"))


def test_task_without_failure_has_no_error(client, admin, create):
    tid = create(admin).json()["task_id"]
    body = client.get(f"/v1/tasks/{tid}", headers=admin.headers).json()
    assert body["status"] == "queued"
    assert body["error"] is None and body["events"] == []


def test_another_accounts_task_is_404(
    client, member, make_user, create, error_of
):
    other = make_user("member")
    tid = create(other).json()["task_id"]
    error_of(client.get(f"/v1/tasks/{tid}", headers=member.headers), 404)
    assert (
        client.get(f"/v1/tasks/{tid}", headers=other.headers).status_code
        == 200
    )


@pytest.mark.parametrize("bad", ["t-zzzzzzzz", "nope", "i-abcdefgh"])
def test_unknown_task_is_404(client, admin, error_of, bad):
    error_of(client.get(f"/v1/tasks/{bad}", headers=admin.headers), 404)


def test_history_of_a_resource_is_newest_first(client, admin, create):
    body = create(admin).json()
    iid = body["id"]
    create(admin, name="other")
    with engine.session() as s:
        s.get(models.Instance, iid).status = "running"
    stop = client.post(
        f"/v1/instances/{iid}/actions",
        json={"action": "stop"},
        headers=admin.headers,
    ).json()["task_id"]
    r = client.get(f"/v1/tasks?resource_id={iid}", headers=admin.headers)
    assert [t["id"] for t in r.json()["items"]] == [stop, body["task_id"]]


def test_task_list_is_the_callers_account(client, member, make_user, create):
    other = make_user("member")
    mine = create(member).json()["task_id"]
    create(other)
    items = client.get("/v1/tasks", headers=member.headers).json()["items"]
    assert [t["id"] for t in items] == [mine]


def test_task_list_filters_by_status(client, admin, create):
    a = create(admin, name="a").json()["task_id"]
    create(admin, name="b")
    with engine.session() as s:
        tasks.fail(s, a, "schedule", "no valid host")
    items = client.get(
        "/v1/tasks?status=failed", headers=admin.headers
    ).json()["items"]
    assert [t["id"] for t in items] == [a]


def test_task_list_pages(client, admin, create):
    made = [create(admin, name=f"w{n}").json()["task_id"] for n in range(3)]
    first = client.get("/v1/tasks?limit=2", headers=admin.headers).json()
    second = client.get(
        f"/v1/tasks?limit=2&marker={first['next_marker']}",
        headers=admin.headers,
    ).json()
    got = [t["id"] for t in first["items"] + second["items"]]
    assert got == list(reversed(made))
    assert second["next_marker"] is None


# -- long-polling -----------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_waiters():
    """Each test's own waiters (and recheck thread, reading its interval)."""
    from arame.api.task_watch import waiters

    waiters.reset()
    yield
    waiters.reset()


def _later(seconds, fn):
    import threading

    t = threading.Timer(seconds, fn)
    t.start()
    return t


def test_wait_answers_when_the_task_ends_announced(
    client, admin, create, config
):
    """The scheduler's cast wakes the request as soon as it commits the
    end: well before the recheck would have (set to a minute here)."""
    import time

    from arame.api.task_watch import waiters

    config("task_wait_recheck_interval", 60, group="api")
    tid = create(admin).json()["task_id"]

    def end():
        with engine.session() as s:
            tasks.set_status(s, tid, "running")
            tasks.set_status(s, tid, "done")
        waiters.get().ended(tid)

    t0 = time.monotonic()
    timer = _later(0.3, end)
    try:
        r = client.get(f"/v1/tasks/{tid}?wait=20", headers=admin.headers)
    finally:
        timer.join()
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert time.monotonic() - t0 < 10


def test_wait_finds_an_unannounced_change_by_its_recheck(
    client, admin, create, config
):
    """A step that no cast announces (or an end whose cast was lost) wakes
    the waiter at the next batched read."""
    config("task_wait_recheck_interval", 0.1, group="api")
    tid = create(admin).json()["task_id"]

    def step():
        with engine.session() as s:
            tasks.set_status(s, tid, "running")

    import time

    t0 = time.monotonic()
    timer = _later(0.3, step)
    try:
        r = client.get(f"/v1/tasks/{tid}?wait=20", headers=admin.headers)
    finally:
        timer.join()
    assert r.json()["status"] == "running"
    assert time.monotonic() - t0 < 10


def test_wait_on_an_unchanged_task_answers_at_its_deadline(
    client, admin, create
):
    import time

    tid = create(admin).json()["task_id"]
    t0 = time.monotonic()
    r = client.get(f"/v1/tasks/{tid}?wait=0.5", headers=admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "queued"
    assert 0.4 <= time.monotonic() - t0 < 10


def test_wait_on_an_ended_task_answers_at_once(client, admin, create):
    import time

    tid = create(admin).json()["task_id"]
    with engine.session() as s:
        tasks.fail(s, tid, "schedule", "no host")
    t0 = time.monotonic()
    r = client.get(f"/v1/tasks/{tid}?wait=30", headers=admin.headers)
    assert r.json()["status"] == "failed"
    assert time.monotonic() - t0 < 5


def test_wait_is_capped_by_max_task_wait(client, admin, create, config):
    import time

    config("max_task_wait", 0, group="api")
    tid = create(admin).json()["task_id"]
    t0 = time.monotonic()
    r = client.get(f"/v1/tasks/{tid}?wait=30", headers=admin.headers)
    assert r.json()["status"] == "queued"
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("bad", ["-1", "301", "soon"])
def test_a_bad_wait_is_a_clear_422(client, admin, create, error_of, bad):
    tid = create(admin).json()["task_id"]
    error_of(
        client.get(f"/v1/tasks/{tid}?wait={bad}", headers=admin.headers), 422
    )


def test_waiting_on_another_accounts_task_is_404_at_once(
    client, member, make_user, create, error_of
):
    other = make_user("member")
    tid = create(other).json()["task_id"]
    error_of(
        client.get(f"/v1/tasks/{tid}?wait=30", headers=member.headers), 404
    )
