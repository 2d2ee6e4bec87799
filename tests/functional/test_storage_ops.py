"""Storage operations on the real deployment (fake storage backend, real
bus and database): the storage node's capacity reaches the records through
its heartbeat and placement refuses a volume it cannot hold; volume quotas
answer 429; a data volume's lifetime is one open and one close in the
usage ledger."""

import pytest
import sqlalchemy as sa

from arame.sdk.errors import ArameError
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional


def test_capacity_quota_and_usage_of_volumes(make_deployment):
    # The pretend pool holds 6 GiB; an account may hold 2 volumes.
    dep = make_deployment(
        conf={"fake_sta": {"size_gb": 6}, "quota": {"volumes": 2}},
        roles=("collector", "scheduler", "sta", "api"),
        hypervisors=0,
    )
    c = dep.client()

    big = c.volumes.create("too-big", 10)
    task = wait_until(
        lambda: ended(c, big["task_id"]),
        60,
        "the oversized volume's task to end",
    )
    assert task["status"] == "failed", (
        task,
        pools(dep),
        dep.logs_with_errors(),
    )
    assert task["error"]["step"] == "schedule"
    assert "no storage node can hold 10 GiB" in task["error"]["message"]
    assert "6.0 GiB free" in task["error"]["message"]

    vol = c.volumes.create("billed", 2)
    c.tasks.wait(vol["task_id"], timeout=60)
    assert c.volumes.get(vol["id"])["status"] == "available"

    # too-big (in error) and billed hold the account's 2 volumes.
    with pytest.raises(ArameError) as err:
        c.volumes.create("third", 1)
    assert err.value.status_code == 429
    assert err.value.details == {
        "resource": "volumes",
        "limit": 2,
        "in_use": 2,
        "requested": 1,
    }

    for v in (vol, big):
        c.tasks.wait(c.volumes.delete(v["id"])["task_id"], timeout=60)
    # Both given back: a new one fits again.
    again = c.volumes.create("again", 1)
    c.tasks.wait(again["task_id"], timeout=60)

    def ledger():
        items = [
            r
            for r in c._session.get("/v1/usage")["items"]
            if r["resource_type"] == "volume"
        ]
        return items if len(items) >= 3 else None

    items = wait_until(ledger, 30, "the collector to write the ledger")
    assert [(r["resource_id"], r["event"]) for r in items] == [
        (vol["id"], "open"),
        (vol["id"], "close"),
        (again["id"], "open"),
    ]


def ended(c, task_id):
    task = c.tasks.get(task_id)
    return task if task["status"] in ("done", "failed") else None


def pools(dep):
    """The storage_nodes rows, for a failure's message."""
    with dep.engine().connect() as db:
        return db.execute(
            sa.text("SELECT name, size_bytes, free_bytes FROM storage_nodes")
        ).all()
