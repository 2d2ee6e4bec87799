"""The invariants' check: drift made by hand is found and repaired, no
drift means no writes, and a change made between the check's read and its
repair is never overwritten."""

import datetime as dt
import logging

import pytest
import sqlalchemy as sa

from arame.collector import invariants
from arame.common import tasks
from arame.common.db import engine, models

ACCOUNT = "a-admin"  # the seeded cloud's; small = 1 vcpu, 512 MB, 5 GB
HOUR_AGO = dt.timedelta(hours=1)


def update(model, key, **values):
    with engine.session() as s:
        s.execute(
            sa.update(model)
            .where(model.__mapper__.primary_key[0] == key)
            .values(**values)
        )


def end_task(tid, status="done", age=HOUR_AGO):
    """End an instance's task as its flow would have, `age` ago."""
    with engine.session() as s:
        if status == "failed":
            tasks.fail(s, tid, "spawn", "no valid host")
        else:
            tasks.set_status(s, tid, "running")
            tasks.set_status(s, tid, status)
    update(models.Task, tid, updated_at=models.utcnow() - age)


@pytest.fixture
def cloud_with_host(add_host, cloud):
    add_host("hv1")
    with engine.session() as s:
        s.merge(models.Quota(account_id=ACCOUNT))


@pytest.fixture
def placed(cloud_with_host, add_instance):
    """place(status): an instance on hv1 as the flows leave it, its host's
    claim and its account's quota counted, its usage opened if it ran."""

    def place(status="running", *, claimed=True, ran=True, task="done"):
        iid, tid = add_instance(status=status, host="hv1", claimed=claimed)
        end_task(tid, task)
        held = status != "terminated"
        with engine.session() as s:
            if claimed:
                _add(s, models.Host, models.Host.name == "hv1", 1, 512, 5)
            if held:
                _add_quota(s, 1, 512)
            s.execute(
                sa.update(models.Instance)
                .where(models.Instance.id == iid)
                .values(
                    quota_held=held,
                    terminated_at=None if held else models.utcnow() - HOUR_AGO,
                )
            )
            if ran:
                s.add(_usage(iid, "open"))
                if not held:
                    s.add(_usage(iid, "close"))
        return iid

    return place


def _add(s, H, where, vcpus, mem, disk):
    s.execute(
        sa.update(H)
        .where(where)
        .values(
            vcpus_used=H.vcpus_used + vcpus,
            memory_mb_used=H.memory_mb_used + mem,
            disk_gb_used=H.disk_gb_used + disk,
            instance_count=H.instance_count + 1,
        )
    )


def _add_quota(s, vcpus, mem, volumes=0, storage_gb=0):
    Q = models.Quota
    s.execute(
        sa.update(Q)
        .where(Q.account_id == ACCOUNT)
        .values(
            instances_used=Q.instances_used + (1 if vcpus else 0),
            vcpus_used=Q.vcpus_used + vcpus,
            memory_mb_used=Q.memory_mb_used + mem,
            volumes_used=Q.volumes_used + volumes,
            storage_gb_used=Q.storage_gb_used + storage_gb,
        )
    )


def _usage(iid, event):
    return models.UsageRecord(
        account_id=ACCOUNT,
        resource_id=iid,
        resource_type="instance",
        event=event,
        flavor="small",
        vcpus=1,
        memory_mb=512,
        at=models.utcnow() - HOUR_AGO,
    )


def check(**kw):
    with engine.session() as s:
        return invariants.check(s, **kw)


def host():
    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == "hv1"))
        return (
            h.vcpus_used,
            h.memory_mb_used,
            h.disk_gb_used,
            h.instance_count,
        )


def quota():
    with engine.session() as s:
        q = s.get(models.Quota, ACCOUNT)
        return (
            q.instances_used,
            q.vcpus_used,
            q.memory_mb_used,
            q.volumes_used,
            q.storage_gb_used,
        )


def usage_events(iid):
    with engine.session() as s:
        U = models.UsageRecord
        return {
            r.event: r.at
            for r in s.scalars(sa.select(U).where(U.resource_id == iid))
        }


@pytest.fixture
def writes():
    """The statements that write, as they are executed."""
    seen = []

    def record(conn, cursor, statement, params, context, executemany):
        if statement.split(None, 1)[0].upper() in (
            "INSERT",
            "UPDATE",
            "DELETE",
        ):
            seen.append(statement)

    eng = engine.get_engine()
    sa.event.listen(eng, "before_cursor_execute", record)
    yield seen
    sa.event.remove(eng, "before_cursor_execute", record)


def test_records_that_agree_give_no_drift_and_no_writes(placed, writes):
    placed("running")
    placed("error")  # a failed action: the claim stays
    placed("stopped")
    placed("terminated", claimed=False)
    placed("terminated", claimed=False, ran=False, task="failed")
    writes.clear()
    assert check() == []
    assert invariants.run() == 0
    assert writes == []


def test_a_host_whose_usage_drifted_is_set_to_its_instances_sum(
    placed, caplog
):
    placed("running")
    placed("error")
    update(models.Host, host_id(), vcpus_used=7, disk_gb_used=3)
    (found,) = check()
    assert found == (
        "host hv1: vcpus_used recorded 7, true 2, "
        "disk_gb_used recorded 3, true 10"
    )
    with caplog.at_level(logging.WARNING):
        assert invariants.run() == 1
    assert host() == (2, 1024, 10, 2)
    assert f"repaired drift of {found}" in caplog.text
    assert check() == []


def host_id():
    with engine.session() as s:
        return s.scalar(
            sa.select(models.Host.id).where(models.Host.name == "hv1")
        )


def test_a_terminated_instance_still_claimed_gives_its_claim_back(
    placed, get_row
):
    keep = placed("running")
    # Killed between the release's two halves as an older release was:
    # the instance terminated, its claim and its host's usage left.
    gone = placed("terminated", claimed=True)
    assert host() == (2, 1024, 10, 2)
    assert sorted(check()) == [
        "host hv1: vcpus_used recorded 2, true 1, memory_mb_used recorded "
        "1024, true 512, disk_gb_used recorded 10, true 5, instance_count "
        "recorded 2, true 1",
        f"instance {gone} (terminated): claimed recorded True, true False",
    ]
    assert invariants.run() == 2
    assert host() == (1, 512, 5, 1)
    assert get_row(models.Instance, gone).claimed is False
    assert get_row(models.Instance, keep).claimed is True
    assert check() == []


def test_a_host_with_an_instance_a_flow_owns_is_left_alone(
    placed, add_instance
):
    placed("running")
    update(models.Host, host_id(), vcpus_used=9)
    # A build in flight on hv1: its flow owns it, and the host with it.
    add_instance(status="starting", host="hv1", claimed=True)
    assert check() == []
    assert invariants.run() == 0
    assert host()[0] == 9


def test_a_repair_never_overwrites_a_change_made_after_the_read(placed):
    placed("running")
    update(models.Host, host_id(), vcpus_used=7)
    with engine.session() as s:
        (drift,) = invariants.find(s)
    # Meanwhile a claim lands: +2 vcpus on hv1 (and its instance).
    with engine.session() as s:
        H = models.Host
        s.execute(
            sa.update(H)
            .where(H.name == "hv1")
            .values(vcpus_used=H.vcpus_used + 2)
        )
    with engine.session() as s:
        assert drift.repair(s) is False
    assert host()[0] == 9


def test_quota_usage_that_drifted_is_set_to_what_live_resources_hold(
    placed,
):
    placed("running")
    placed("error")
    update(models.Quota, ACCOUNT, instances_used=5, memory_mb_used=0)
    (found,) = check()
    assert found == (
        f"quota of account {ACCOUNT}: instances_used recorded 5, true 2, "
        "memory_mb_used recorded 0, true 1024"
    )
    assert invariants.run() == 1
    assert quota() == (2, 2, 1024, 0, 0)
    assert check() == []


def test_a_terminated_instance_still_holding_quota_gives_it_back(
    placed, get_row
):
    placed("running")
    gone = placed("terminated", claimed=False)
    update(models.Instance, gone, quota_held=True)
    with engine.session() as s:
        _add_quota(s, 1, 512)
    assert sorted(check()) == [
        f"instance {gone} (terminated): quota_held recorded True, true False",
        f"quota of account {ACCOUNT}: instances_used recorded 2, true 1, "
        "vcpus_used recorded 2, true 1, memory_mb_used recorded 1024, "
        "true 512",
    ]
    assert invariants.run() == 2
    assert quota() == (1, 1, 512, 0, 0)
    assert get_row(models.Instance, gone).quota_held is False


def add_volume(status, size_gb=10, held=True, task=None):
    vid = f"vol-{status[:4]}{size_gb:04d}"
    with engine.session() as s:
        s.add(
            models.Volume(
                id=vid,
                name=vid,
                account_id=ACCOUNT,
                size_gb=size_gb,
                status=status,
                created_at=models.utcnow(),
                updated_at=models.utcnow(),
            )
        )
        if held:
            s.add(
                models.QuotaHold(
                    resource_id=vid,
                    account_id=ACCOUNT,
                    volumes=1,
                    storage_gb=size_gb,
                )
            )
            _add_quota(s, 0, 0, volumes=1, storage_gb=size_gb)
        if task:
            tasks.create(
                s,
                account_id=ACCOUNT,
                resource_id=vid,
                resource_type="volume",
                action=task,
                timeout_s=60,
            )
    return vid


def test_a_deleted_volume_still_holding_quota_gives_it_back(
    cloud_with_host, get_row
):
    add_volume("available", 10)
    gone = add_volume("deleted", 20)
    assert sorted(check()) == [
        f"quota of account {ACCOUNT}: volumes_used recorded 2, true 1, "
        "storage_gb_used recorded 30, true 10",
        f"volume {gone} (deleted): quota hold recorded 'held', true None",
    ]
    assert invariants.run() == 2
    assert quota() == (0, 0, 0, 1, 10)
    assert get_row(models.QuotaHold, gone) is None
    assert check() == []


def test_an_account_with_a_volume_under_a_task_is_left_alone(
    cloud_with_host,
):
    add_volume("deleting", 20, task="delete")
    update(models.Quota, ACCOUNT, storage_gb_used=99)
    assert check() == []


def test_a_terminated_instance_that_ran_gets_its_missing_close(
    placed, get_row
):
    iid = placed("terminated", claimed=False)
    with engine.session() as s:
        U = models.UsageRecord
        s.execute(sa.delete(U).where(U.resource_id == iid, U.event == "close"))
    (found,) = check()
    assert found.startswith(
        f"usage of instance {iid} (terminated): close recorded None, true "
    )
    assert invariants.run() == 1
    ended = get_row(models.Instance, iid).terminated_at
    assert usage_events(iid)["close"] == ended
    assert check() == []


def test_a_lost_open_is_appended_at_the_end_of_the_build(placed):
    iid = placed("running", ran=False)
    (found,) = check()
    assert found.startswith(
        f"usage of instance {iid} (running): open recorded None, true "
    )
    assert invariants.run() == 1
    with engine.session() as s:
        built = s.scalar(
            sa.select(models.Task.updated_at).where(
                models.Task.resource_id == iid
            )
        )
    assert usage_events(iid) == {"open": built}


def test_an_instance_that_never_ran_gets_no_usage(placed):
    iid = placed("terminated", claimed=False, ran=False, task="failed")
    assert check() == []
    assert invariants.run() == 0
    assert usage_events(iid) == {}


def test_a_record_still_on_the_bus_is_not_drift_yet(placed):
    iid = placed("terminated", claimed=False)
    with engine.session() as s:
        U = models.UsageRecord
        s.execute(sa.delete(U).where(U.resource_id == iid, U.event == "close"))
    update(models.Instance, iid, terminated_at=models.utcnow())
    assert check() == []
    assert len(check(settle_s=0)) == 1


def test_the_check_is_off_at_zero(placed, config):
    placed("running")
    update(models.Host, host_id(), vcpus_used=7)
    config("invariants_interval", 0, group="collector")
    assert invariants.run() == 0
    assert host()[0] == 7


def test_a_change_to_a_value_that_agreed_also_stops_the_repair(placed):
    """The compare-and-set holds every value read, not only the drifted
    one: an instance created meanwhile (its quota taken) makes the storage
    repair wait for the next round, which sees both."""
    placed("running")
    update(models.Quota, ACCOUNT, storage_gb_used=30)
    with engine.session() as s:
        (drift,) = invariants.find(s)
    assert drift.true == {"storage_gb_used": 0}
    placed("running")
    with engine.session() as s:
        assert drift.repair(s) is False
    assert quota() == (2, 2, 1024, 0, 30)
    assert invariants.run() == 1
    assert quota() == (2, 2, 1024, 0, 0)


def test_a_terminated_instance_still_holding_its_root_gb_gives_it_back(
    placed, get_row
):
    iid = placed("terminated", claimed=False)
    with engine.session() as s:
        s.add(
            models.QuotaHold(
                resource_id=iid,
                account_id=ACCOUNT,
                volumes=0,
                storage_gb=15,
            )
        )
        _add_quota(s, 0, 0, storage_gb=15)
    assert sorted(check()) == [
        f"instance {iid} (terminated): its root_gb: quota hold recorded "
        "'held', true None",
        f"quota of account {ACCOUNT}: storage_gb_used recorded 15, true 0",
    ]
    assert invariants.run() == 2
    assert quota()[4] == 0
    assert get_row(models.QuotaHold, iid) is None
    assert check() == []


def test_floating_ips_used_is_what_the_account_holds(placed):
    with engine.session() as s:
        s.add(
            models.Network(
                id="nw-extern01",
                name="public",
                account_id=ACCOUNT,
                external=True,
                cidr="203.0.113.0/24",
                gateway="203.0.113.1",
                dns_domain="public.test",
                dhcp_ranges=[["203.0.113.10", "203.0.113.20"]],
                segmentation="flat",
                segment_id=None,
                mtu=1500,
            )
        )
        s.flush()
        for n, kind in ((1, "floating"), (2, "floating"), (3, "gateway")):
            s.add(
                models.FloatingIp(
                    id=f"fip-0000000{n}",
                    network_id="nw-extern01",
                    address=f"203.0.113.1{n}",
                    account_id=ACCOUNT,
                    kind=kind,
                )
            )
    update(models.Quota, ACCOUNT, floating_ips_used=7)
    (found,) = check()
    # A router's own external address is not a floating IP.
    assert found == (
        f"quota of account {ACCOUNT}: floating_ips_used recorded 7, true 2"
    )
    assert invariants.run() == 1
    with engine.session() as s:
        assert s.get(models.Quota, ACCOUNT).floating_ips_used == 2
    assert check() == []
