"""Volume flows and the storage pools' capacity, the quota's give-back and
the usage ledger: placement refuses a node that cannot hold the volume,
delete gives the quota back once, and the ledger gets one open and one
close per data volume."""

import datetime as dt

import pytest

from arame.collector import usage
from arame.common import quotas
from arame.common.db import engine, models
from tests.unit.scheduler.flows import test_volume_flows as flows_tests

# The volume flows' fixtures, shared.
sta, add_sta, run = flows_tests.sta, flows_tests.add_sta, flows_tests.run
add_volume, add_snapshot = flows_tests.add_volume, flows_tests.add_snapshot

GiB = 1024**3


def pool(name, free_gb, size_gb=100):
    with engine.session() as s:
        now = models.utcnow()
        s.add(
            models.StorageNode(
                name=name,
                pool="p",
                volume_mode="file",
                size_bytes=size_gb * GiB,
                free_bytes=int(free_gb * GiB),
                allocated_bytes=0,
                provisioned_bytes=0,
                reported_at=now,
                created_at=now,
                updated_at=now,
            )
        )


def test_a_node_without_room_is_skipped(run, add_sta, add_volume, get_row):
    add_sta("st1")
    add_sta("st2")
    pool("st1", free_gb=2)  # least provisioned, but too small
    pool("st2", free_gb=50)
    add_volume(size_gb=40, status="available", storage_node="st2")
    vid, tid = add_volume(size_gb=10)
    run("volume", "create", vid, tid)
    assert get_row(models.Volume, vid).storage_node == "st2"


def test_no_node_with_room_fails_at_schedule_saying_why(
    run, sta, add_sta, add_volume, get_row, sched_conf
):
    add_sta("st1")
    add_sta("st2")
    pool("st1", free_gb=2)
    pool("st2", free_gb=4.5)
    vid, tid = add_volume(size_gb=10)
    run("volume", "create", vid, tid)
    task = get_row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "schedule")
    assert task.error_message == (
        "no storage node can hold 10 GiB: st1 has "
        "2.0 GiB free; st2 has 4.5 GiB free"
    )
    assert get_row(models.Volume, vid).status == "error"
    assert sta.calls == []
    # Thin provisioning bet: with overcommit 3 the 4.5 GiB pool takes it.
    sched_conf("overcommit_ratio", 3.0, group="sta")
    vid, tid = add_volume(size_gb=10)
    run("volume", "create", vid, tid)
    assert get_row(models.Volume, vid).storage_node == "st2"


def test_a_clone_of_a_snapshot_on_a_full_node_is_refused(
    run, add_sta, add_volume, add_snapshot, get_row
):
    add_sta("st1")
    pool("st1", free_gb=1)
    src, _ = add_volume(status="available", storage_node="st1")
    snap, _ = add_snapshot(src, status="available")
    vid, tid = add_volume(size_gb=2, snapshot_id=snap)
    run("volume", "create", vid, tid)
    task = get_row(models.Task, tid)
    assert task.error_message == (
        "no storage node can hold 2 GiB: st1 has 1.0 GiB free"
    )


class Ledger:
    """A notifier that writes what it is sent straight to the ledger, as
    the collector does, twice (the bus may deliver twice)."""

    def __init__(self):
        self.sent = []

    def info(self, ctxt, event_type, payload):
        self.sent.append((event_type, payload))
        for _ in range(2):
            with engine.session() as s:
                usage.record(s, event_type.split(".")[1], payload)


@pytest.fixture
def ledger(sta, ctxt):
    from arame.scheduler.flows import volumes as flows

    notifier = Ledger()

    def go(kind, action, rid, tid):
        flow = flows.FLOWS[(kind, action)](ctxt, tid, rid, sta)
        flow.usage_notifier = notifier
        flow.run()

    notifier.run = go
    return notifier


def delete_task(vid) -> str:
    """The volume moved to deleting and its delete task, as the API does."""
    from arame.common import tasks

    with engine.session() as s:
        vol = s.get(models.Volume, vid)
        if vol.status != "deleted":
            vol.status = "deleting"
        return tasks.create(
            s,
            account_id="a-admin",
            resource_id=vid,
            resource_type="volume",
            action="delete",
            timeout_s=60,
        ).id


def rows():
    import sqlalchemy as sa

    with engine.session() as s:
        return [
            (r.resource_id, r.resource_type, r.event, r.size_gb)
            for r in s.scalars(
                sa.select(models.UsageRecord).order_by(models.UsageRecord.id)
            )
        ]


def test_one_open_and_one_close_and_the_quota_back_once(
    ledger, add_sta, add_volume, get_row
):
    add_sta("st1")
    quotas.ensure_row("a-admin")
    vid, tid = add_volume(size_gb=3)
    with engine.session() as s:
        quotas.take_volume(s, "a-admin", vid, 3)
    ledger.run("volume", "create", vid, tid)
    assert rows() == [(vid, "volume", "open", 3)]

    for _ in range(2):  # a second delete of a deleted volume is a no-op
        ledger.run("volume", "delete", vid, delete_task(vid))
    assert get_row(models.Volume, vid).status == "deleted"
    assert rows() == [(vid, "volume", "open", 3), (vid, "volume", "close", 3)]
    q = get_row(models.Quota, "a-admin")
    assert (q.volumes_used, q.storage_gb_used) == (0, 0)
    assert [e for e, _ in ledger.sent] == ["usage.open", "usage.close"]


def test_a_volume_that_never_was_available_bills_nothing(
    ledger, add_sta, add_volume, get_row
):
    add_sta("st1", up=False)
    vid, tid = add_volume(size_gb=3)
    ledger.run("volume", "create", vid, tid)  # fails: no node
    assert get_row(models.Volume, vid).status == "error"
    ledger.run("volume", "delete", vid, delete_task(vid))
    assert get_row(models.Volume, vid).status == "deleted"
    assert rows() == []


def test_root_volumes_are_billed_with_their_instance(
    ledger, add_sta, add_volume, get_row
):
    add_sta("st1")
    vid, tid = add_volume(size_gb=3, root_of="i-root0001")
    ledger.run("volume", "create", vid, tid)
    assert get_row(models.Volume, vid).status == "available"
    assert ledger.sent == [] and rows() == []


def test_usage_records_reach_the_usage_api_shape(db):
    from arame.api.services import usage as usage_service
    from arame.common.context import RequestContext

    with engine.session() as s:
        usage.record(
            s,
            "open",
            {
                "account_id": "a-usage001",
                "resource_id": "vol-usage001",
                "resource_type": "volume",
                "size_gb": 9,
                "at": (models.utcnow() - dt.timedelta(hours=1)).isoformat(),
            },
        )
    page = usage_service.list_usage(
        RequestContext(account_id="a-usage001", roles=("member",))
    )
    assert [
        (r["resource_id"], r["resource_type"], r["event"])
        for r in page["items"]
    ] == [("vol-usage001", "volume", "open")]
