"""The evacuate flow: a down host's ha instance rebuilt elsewhere, the
claim moved once, fencing before anything moves, resumed after its
scheduler died."""

import datetime as dt

import pytest
import sqlalchemy as sa

from arame.common import evacuation
from arame.common.db import engine, models
from arame.scheduler.flows.evacuate import EvacuateFlow
from arame.scheduler.leases import LeaseLost, Leases
from arame.scheduler.selector import HostSelector


class FakeSTA:
    """fence_initiator and export_volume, recorded."""

    def __init__(self):
        self.calls: list[tuple] = []

    def fence_initiator(self, ctxt, node, initiator_address, timeout):
        self.calls.append(("fence_initiator", node, initiator_address))
        return {"revoked": ["vol-1"], "sessions_closed": 1}

    def export_volume(self, ctxt, node, volume_id, addr, user, pw, timeout):
        self.calls.append(("export_volume", node, volume_id, addr))
        return {
            "iqn": f"iqn.test:{volume_id}",
            "portal": "10.0.0.9:3260",
            "lun": 1,
        }


@pytest.fixture
def sta():
    return FakeSTA()


@pytest.fixture
def two_hosts(add_host, sched_conf):
    # hv1 missed its heartbeats (down), hv2 is up.
    add_host(
        "hv1",
        age_s=600,
        vcpus_used=1,
        memory_mb_used=512,
        disk_gb_used=5,
        instance_count=1,
    )
    add_host("hv2")
    with engine.session() as s:
        s.execute(sa.update(models.Host).values(storage_address=None))


def on_hv1(add_instance, **kw):
    iid, _ = add_instance(status="running", host="hv1", claimed=True, **kw)
    return iid


def begin(host="hv1"):
    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == host))
        evacuation.check_evacuable(s, h)
        return evacuation.begin(s, h)


@pytest.fixture
def evacuate(ctxt, hva, sta):
    def run(task_id, instance_id, leases=None, adopted=False, power=None):
        flow = EvacuateFlow(
            ctxt,
            task_id,
            instance_id,
            HostSelector(),
            hva,
            sta,
            power_fence=power,
        )
        flow.leases = leases
        flow.adopted = adopted
        flow.run()
        return flow

    return run


def usage(name):
    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == name))
        return (h.vcpus_used, h.instance_count)


def steps(task):
    return [(e.step, e.status) for e in task.events]


def test_ha_instance_moves_claim_once_and_ends_running(
    two_hosts, add_instance, evacuate, hva, get_row
):
    iid = on_hv1(add_instance)
    begun = begin()
    assert [t["instance_id"] for t in begun.tasks] == [iid]
    assert get_row(models.Instance, iid).status == "evacuating"
    ((tid, _),) = begun.to_cast
    evacuate(tid, iid)

    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host, inst.claimed) == ("running", "hv2", True)
    assert usage("hv1") == (0, 0) and usage("hv2") == (1, 1)
    assert hva.calls == [("spawn", "hv2", iid)]
    task = get_row(models.Task, tid)
    assert task.status == "done"
    assert [s for s, _ in steps(task)] == [
        "check",
        "fence",
        "schedule",
        "rebuild",
        "spawn",
    ]
    rebuild = next(e for e in task.events if e.step == "rebuild")
    assert "rebuilt from image" in rebuild.message
    ev = get_row(models.HostEvacuation, "hv1")
    assert ev.fenced_at is not None and ev.state == "ended"


def test_non_ha_instance_is_put_in_error_and_says_why(
    two_hosts, add_instance, get_row
):
    iid = on_hv1(add_instance)
    with engine.session() as s:
        s.execute(sa.update(models.Instance).values(ha_enabled=False))
    begun = begin()
    assert begun.tasks == []
    assert begun.not_evacuated[0]["instance_id"] == iid
    inst = get_row(models.Instance, iid)
    assert inst.status == "error"
    assert inst.status_reason == evacuation.not_ha_reason("hv1")
    assert get_row(models.HostEvacuation, "hv1").state == "ended"


def test_asking_again_adds_no_task(two_hosts, add_instance):
    on_hv1(add_instance)
    first = begin()
    again = begin()
    assert again.to_cast == []
    assert again.tasks == [{**first.tasks[0], "new": False}]


def test_an_up_host_is_refused(add_host, add_instance, sched_conf):
    from arame.common import exceptions

    add_host("hv1")
    with pytest.raises(exceptions.Conflict, match="is up"):
        begin()


def test_storage_fenced_before_the_root_volume_moves(
    two_hosts, add_instance, evacuate, sta, get_row
):
    iid = on_hv1(add_instance)
    with engine.session() as s:
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == "hv1")
            .values(storage_address="10.0.0.1")
        )
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == "hv2")
            .values(storage_address="10.0.0.2")
        )
        s.add(models.StorageNode(name="st1", reported_at=models.utcnow()))
        s.add(
            models.Volume(
                id="vol-00000001",
                name="root",
                account_id="a-admin",
                size_gb=5,
                status="attached",
                storage_node="st1",
                instance_id=iid,
                root_of=iid,
                chap_user="u",
                chap_secret="p",
                export_iqn="iqn.old",
            )
        )
    ((tid, _),) = begin().to_cast
    powered = []

    def power(ctxt, host, timeout):
        powered.append(host)
        return {"power": "off"}

    evacuate(tid, iid, power=power)
    assert sta.calls == [
        ("fence_initiator", "st1", "10.0.0.1"),
        ("export_volume", "st1", "vol-00000001", "10.0.0.2"),
    ]
    assert powered == ["hv1"]
    assert get_row(models.Instance, iid).status == "running"
    assert get_row(models.Volume, "vol-00000001").export_iqn == (
        "iqn.test:vol-00000001"
    )


def test_a_down_storage_node_exporting_to_the_host_is_refused(
    two_hosts, add_instance
):
    from arame.common import exceptions

    iid = on_hv1(add_instance)
    with engine.session() as s:
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == "hv1")
            .values(storage_address="10.0.0.1")
        )
        s.add(
            models.StorageNode(
                name="st1", reported_at=models.utcnow() - dt.timedelta(hours=1)
            )
        )
        s.add(
            models.Volume(
                id="vol-00000001",
                name="root",
                account_id="a-admin",
                size_gb=5,
                status="attached",
                storage_node="st1",
                instance_id=iid,
                root_of=iid,
                export_iqn="iqn.old",
            )
        )
    with pytest.raises(exceptions.Conflict, match="cannot be fenced"):
        begin()


def test_spawn_failure_destroys_and_gives_the_claim_back(
    two_hosts, add_instance, evacuate, hva, get_row
):
    iid = on_hv1(add_instance)
    ((tid, _),) = begin().to_cast
    hva.fail["spawn"] = RuntimeError("no room in the inn")
    evacuate(tid, iid)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host) == ("error", "hv1")
    assert "spawn" in inst.status_reason
    assert usage("hv1") == (1, 1) and usage("hv2") == (0, 0)
    assert ("destroy", "hv2", iid) in hva.calls
    assert get_row(models.Task, tid).status == "failed"


@pytest.mark.parametrize("prior", ["running", "error"])
def test_host_back_up_leaves_the_instance_where_it_was(
    two_hosts, add_instance, evacuate, get_row, hva, prior
):
    iid, _ = add_instance(status=prior, host="hv1", claimed=True)
    ((tid, _),) = begin().to_cast
    with engine.session() as s:
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == "hv1")
            .values(last_report_at=models.utcnow())
        )
    evacuate(tid, iid)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host) == (prior, "hv1")
    task = get_row(models.Task, tid)
    assert task.status == "failed" and "up again" in task.error_message
    assert hva.calls == []


def test_a_scheduler_dying_after_the_claim_resumes_to_the_end(
    two_hosts, add_instance, evacuate, hva, get_row
):
    iid = on_hv1(add_instance)
    ((tid, _),) = begin().to_cast
    leases = Leases()

    def die(_iid):
        raise LeaseLost(tid)  # stands in for the scheduler's end

    hva.hooks["spawn"] = die
    with pytest.raises(LeaseLost):
        evacuate(tid, iid, leases=leases)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host) == ("evacuating", "hv2")
    assert usage("hv1") == (0, 0) and usage("hv2") == (1, 1)

    del hva.hooks["spawn"]
    evacuate(tid, iid, leases=leases, adopted=True)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host) == ("running", "hv2")
    # Claimed once: the resumed flow did not claim again.
    assert usage("hv1") == (0, 0) and usage("hv2") == (1, 1)
    assert get_row(models.Task, tid).status == "done"
    assert hva.calls == [("spawn", "hv2", iid), ("spawn", "hv2", iid)]


def test_a_stopped_instance_lands_stopped(
    two_hosts, add_instance, evacuate, hva, get_row
):
    iid, _ = add_instance(status="stopped", host="hv1", claimed=True)
    ((tid, _),) = begin().to_cast
    evacuate(tid, iid)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.power_state) == ("stopped", "shutdown")
    assert hva.methods() == ["spawn", "power_off"]


def test_deleted_meanwhile_destroys_on_the_new_host(
    two_hosts, add_instance, evacuate, hva, get_row, behind_the_back
):
    iid = on_hv1(add_instance)
    ((tid, _),) = begin().to_cast
    hva.hooks["spawn"] = lambda i: behind_the_back(i, "shuttingdown")
    evacuate(tid, iid)
    assert ("destroy", "hv2", iid) in hva.calls
    task = get_row(models.Task, tid)
    assert task.status == "failed" and "deleted" in task.error_message


def test_the_manager_runs_an_evacuate_task_the_sweep_found(
    two_hosts, add_instance, ctxt, hva, sta, get_row
):
    from arame.scheduler.manager import SchedulerManager

    iid = on_hv1(add_instance)
    ((tid, _),) = begin().to_cast
    mgr = SchedulerManager(HostSelector(), hva, sta=sta)
    mgr.power_fence = lambda ctxt, host, timeout: None
    mgr.resume(ctxt, get_row(models.Task, tid), adopted=False)
    assert get_row(models.Task, tid).status == "done"
    assert get_row(models.Instance, iid).host == "hv2"
