import httpx
import pytest

from arame.sdk import ArameError, ConnectionFailed, TaskFailed
from tests.helpers.fakes import error


def task(status, events=(), err=None):
    return {
        "id": "t-aaaaaaaa",
        "status": status,
        "resource_id": "i-aaaaaaaa",
        "action": "create",
        "error": err,
        "events": list(events),
    }


SCHEDULED = {
    "step": "schedule",
    "status": "done",
    "at": "x",
    "duration_ms": 5,
    "host": None,
}
BOOTED = {
    "step": "boot",
    "status": "done",
    "at": "y",
    "duration_ms": 900,
    "host": "hv1",
}


def test_wait_returns_the_done_task_and_reports_every_poll(client, api, clock):
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (200, task("queued")),
        (200, task("running", [SCHEDULED])),
        (200, task("done", [SCHEDULED, BOOTED])),
    )
    seen = []

    done = client.tasks.wait("t-aaaaaaaa", interval=0.5, on_update=seen.append)

    assert done["status"] == "done"
    assert [t["status"] for t in seen] == ["queued", "running", "done"]
    # A server that answers each change (a long poll): asked again at once.
    assert not any(clock.slept)
    assert all(
        r.url.params.get("wait") not in (None, "0") for r in api.requests
    )


def test_wait_raises_task_failed_with_step_and_message(client, api):
    failed = task(
        "failed", [SCHEDULED], err={"step": "boot", "message": "no valid host"}
    )
    api.add(
        "GET", "/v1/tasks/t-aaaaaaaa", (200, task("running")), (200, failed)
    )

    with pytest.raises(TaskFailed) as raised:
        client.tasks.wait("t-aaaaaaaa", interval=0.01)

    assert raised.value.task == failed
    assert (raised.value.step, raised.value.message) == (
        "boot",
        "no valid host",
    )
    assert "failed at step boot: no valid host" in str(raised.value)


def test_wait_gives_up_at_the_deadline(client, api, clock):
    api.add("GET", "/v1/tasks/t-aaaaaaaa", (200, task("running")))

    with pytest.raises(TimeoutError) as raised:
        client.tasks.wait("t-aaaaaaaa", timeout=1.0, interval=0.3)

    assert raised.value.task["status"] == "running"
    # A server answering at once with nothing new does not long-poll (an
    # older one): after the first two answers, polls .3 apart, and a last
    # one exactly at the deadline.
    assert clock.slept == pytest.approx([0.0, 0.3, 0.3, 0.3, 0.1])
    assert len(api.requests) == 6
    assert "still running after 1 s" in str(raised.value)


def test_wait_rides_out_a_dropped_connection(client, api):
    def drop(request):
        raise httpx.ReadError("connection reset", request=request)

    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (200, task("running")),
        drop,
        (200, task("done")),
    )

    assert client.tasks.wait("t-aaaaaaaa", interval=0.01)["status"] == "done"


def test_wait_reraises_the_connection_error_if_it_lasts_past_the_deadline(
    client, api
):
    def drop(request):
        raise httpx.ConnectError("refused", request=request)

    api.add("GET", "/v1/tasks/t-aaaaaaaa", drop)

    with pytest.raises(ConnectionFailed):
        client.tasks.wait("t-aaaaaaaa", timeout=1, interval=0.5)


def test_wait_stops_at_once_on_an_api_error(client, api, clock):
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (404, error("not_found", "no such task")),
    )

    with pytest.raises(ArameError) as raised:
        client.tasks.wait("t-aaaaaaaa")

    assert raised.value.status_code == 404
    assert clock.slept == []


def test_list_filters_by_resource(client, api):
    api.add(
        "GET",
        "/v1/tasks",
        (200, {"items": [task("done")], "next_marker": None}),
    )

    assert client.tasks.list(resource_id="i-aaaaaaaa") == [task("done")]
    assert api.requests[0].url.params["resource_id"] == "i-aaaaaaaa"
