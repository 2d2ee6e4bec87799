"""Bare-metal tasks outlive their scheduler: it dies at the flow's agent
step (after the agent did the work, before its answer arrived), the lease
lapses, another scheduler's sweep adopts the task and the flow resumes
from the records (the node it holds, its root volume), asking each agent
again; a build whose instance was deleted meanwhile is undone."""

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.common.db import engine, models
from arame.scheduler.leases import Leases
from arame.scheduler.manager import SchedulerManager
from arame.scheduler.sweeper import Sweeper
from tests.unit.scheduler.flows.test_leases import (
    Died,
    lapse,
    run_found,
    task_row,
)

from .conftest import add_bm_instance, add_node, add_task


class Notes:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def info(self, ctxt, event, payload):
        self.sent.append((event, payload["resource_id"]))


def die_after(agent, method: str) -> None:
    """The agent does `method` once more, then the scheduler that asked
    dies before the answer reaches it (nothing in it catches Died)."""
    real = getattr(agent, method)

    def dying(*a, **kw):
        setattr(agent, method, real)
        real(*a, **kw)
        raise Died()

    setattr(agent, method, dying)


@pytest.fixture
def notes():
    return Notes()


@pytest.fixture
def scheduler(agents, notes, pxe_script):
    bma, sta, nsa = agents

    def make():
        m = SchedulerManager(
            selector=object(),
            hva=object(),
            nsa=nsa,
            sta=sta,
            bma=bma,
            notifier=notes,
        )
        return m, Sweeper(m, workers=1)

    return make


def adopt(scheduler, tid: str) -> None:
    lapse(tid)
    _, sweep = scheduler()
    assert [(t.id, a) for t, a in run_found(sweep)] == [(tid, True)]


def row(model, key):
    with engine.session() as s:
        return s.get(model, key)


def root_volumes(iid):
    with engine.session() as s:
        return list(
            s.scalars(
                sa.select(models.Volume).where(models.Volume.root_of == iid)
            )
        )


def port(iid):
    with engine.session() as s:
        return s.scalar(
            sa.select(models.Port).where(models.Port.instance_id == iid)
        )


def set_status(iid, status):
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == iid)
            .values(status=status)
        )


def died_building(scheduler, ctxt, agent, method, bm_cloud):
    """A bm build whose scheduler died once `agent` did `method`."""
    iid, tid = add_bm_instance(bm_cloud)
    first, _ = scheduler()
    die_after(agent, method)
    with pytest.raises(Died):
        first.build_instance(ctxt, tid, iid)
    return iid, tid


# -- build ----------------------------------------------------------------------


def test_a_build_that_died_at_boot_resumes_on_the_node_it_holds(
    scheduler, agents, bm_cloud, ctxt, notes
):
    bma, sta, nsa = agents
    nid = add_node("n1", mac="52:54:00:aa:bb:01")
    iid, tid = died_building(scheduler, ctxt, bma, "power_on", bm_cloud)
    assert task_row(tid).step == "boot"
    spare = add_node("n0", cpus=2)  # would be the first fit now

    adopt(scheduler, tid)
    t = row(models.Task, tid)
    assert (t.status, t.attempts) == ("done", 2), t.error_message
    inst, node = row(models.Instance, iid), row(models.BaremetalNode, nid)
    assert (inst.status, inst.node_id, inst.host) == (
        "running",
        nid,
        "bm-agent",
    )
    assert (node.provision_state, node.instance_id) == ("active", iid)
    assert row(models.BaremetalNode, spare).provision_state == "available"
    assert bma.methods() == ["set_boot_device", "power_on"] * 2
    # One root volume, on its node, asked again for its LUN.
    (vol,) = root_volumes(iid)
    assert vol.status == "attached"
    assert [c for c in sta.calls if c[0] == "create_volume"] == [
        ("create_volume", "st1", vol.id)
    ] * 2
    assert nsa.methods().count("add_reservation") == 2
    assert port(iid).mac_address == "52:54:00:aa:bb:01"
    assert notes.sent == [("usage.open", iid)]


def test_a_build_that_died_making_its_root_volume_keeps_it(
    scheduler, agents, bm_cloud, ctxt
):
    bma, sta, _nsa = agents
    nid = add_node()
    iid, tid = died_building(scheduler, ctxt, sta, "create_volume", bm_cloud)
    (vol,) = root_volumes(iid)

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    assert [v.id for v in root_volumes(iid)] == [vol.id]
    # The image is where the first attempt put it: cloned, not imported.
    assert sta.methods() == [
        "import_image",
        "create_volume",
        "create_volume",
        "export_volume",
    ]
    assert row(models.BaremetalNode, nid).provision_state == "active"


def test_a_build_deleted_before_it_touched_the_node_is_undone(
    scheduler, agents, bm_cloud, ctxt
):
    bma, sta, nsa = agents
    nid = add_node(mac="52:54:00:aa:bb:02")
    iid, tid = died_building(scheduler, ctxt, nsa, "add_reservation", bm_cloud)
    set_status(iid, "shuttingdown")  # DELETE while nobody ran it

    adopt(scheduler, tid)
    t = row(models.Task, tid)
    assert t.status == "failed"
    assert "deleted during the build" in t.error_message
    assert bma.calls == []
    assert "remove_reservation" in nsa.methods()
    assert sta.methods()[-2:] == ["unexport_volume", "delete_volume"]
    (vol,) = root_volumes(iid)
    assert vol.status == "deleted"
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.instance_id) == ("available", None)
    assert port(iid).mac_address != "52:54:00:aa:bb:02"
    assert row(models.Instance, iid).status == "shuttingdown"


def test_a_build_deleted_after_it_touched_the_node_powers_it_off(
    scheduler, agents, bm_cloud, ctxt
):
    bma, sta, _nsa = agents
    nid = add_node()
    iid, tid = died_building(scheduler, ctxt, bma, "set_boot_device", bm_cloud)
    set_status(iid, "shuttingdown")

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "failed"
    assert bma.methods() == ["set_boot_device", "power_off"]
    assert root_volumes(iid)[0].status == "deleted"
    # The BMC was reached: an admin looks before the node is offered.
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.instance_id) == ("error", None)
    assert "deleted during the build" in node.status_reason


def test_a_build_that_died_while_scheduling_finishes_its_placement(
    scheduler, agents, bm_cloud, ctxt
):
    # Claimed (node deploying, instance scheduling), nothing more.
    bma, _sta, _nsa = agents
    nid = add_node(mac="52:54:00:aa:bb:03")
    iid, tid = add_bm_instance(bm_cloud)
    from arame.scheduler.baremetal import claims

    claims.claim(iid, nid)
    with engine.session() as s:
        assert Leases().take(s, tid)

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    inst = row(models.Instance, iid)
    assert (inst.status, inst.host) == ("running", "bm-agent")
    assert port(iid).mac_address == "52:54:00:aa:bb:03"
    assert bma.methods() == ["set_boot_device", "power_on"]


# -- delete ---------------------------------------------------------------------


def built(scheduler, ctxt, agents, bm_cloud):
    nid = add_node()
    iid, tid = add_bm_instance(bm_cloud)
    m, _ = scheduler()
    m.build_instance(ctxt, tid, iid)
    assert row(models.Task, tid).status == "done"
    for a in agents:
        a.calls.clear()
    set_status(iid, "shuttingdown")
    return iid, nid, add_task(iid, "delete", "instance")


@pytest.mark.parametrize(
    "agent,method", [(0, "power_off"), (1, "delete_volume")]
)
def test_a_delete_resumes_and_frees_the_node(
    scheduler, agents, bm_cloud, ctxt, notes, agent, method
):
    bma, sta, nsa = agents
    iid, nid, tid = built(scheduler, ctxt, agents, bm_cloud)
    first, _ = scheduler()
    die_after(agents[agent], method)
    with pytest.raises(Died):
        first.delete_instance(ctxt, tid, iid)

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    assert row(models.Instance, iid).status == "terminated"
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.instance_id) == ("available", None)
    assert root_volumes(iid)[0].status == "deleted"
    assert agents[agent].methods().count(method) == 2
    assert sta.methods()[-1] == "delete_volume"
    assert nsa.methods() == ["remove_reservation"]
    assert notes.sent == [("usage.open", iid), ("usage.close", iid)]


# -- nodes and power ------------------------------------------------------------


@pytest.mark.parametrize(
    "action,state,method,final",
    [
        ("manage", "enroll", "validate", "manageable"),
        ("provide", "manageable", "power_off", "available"),
    ],
)
def test_a_node_task_resumes(
    scheduler, agents, bm_cloud, ctxt, action, state, method, final
):
    bma, _sta, _nsa = agents
    nid = add_node(state=state)
    tid = add_task(nid, action)
    first, _ = scheduler()
    die_after(bma, method)
    with pytest.raises(Died):
        first.node_action(ctxt, tid, nid, action)
    assert row(models.BaremetalNode, nid).provision_state == state

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    assert row(models.BaremetalNode, nid).provision_state == final
    assert bma.methods() == [method, method]


def test_an_unanswered_bmc_agent_is_asked_again(
    scheduler, agents, bm_cloud, ctxt
):
    bma, _sta, _nsa = agents
    nid = add_node(state="enroll")
    tid = add_task(nid, "manage")
    real, asked = bma.validate, []

    def restarting(*a, **kw):
        asked.append(1)
        if len(asked) == 1:  # bma restarting: no answer to the first
            raise messaging.MessagingTimeout("no reply")
        return real(*a, **kw)

    bma.validate = restarting
    m, _ = scheduler()
    m.node_action(ctxt, tid, nid, "manage")
    assert row(models.Task, tid).status == "done"
    assert row(models.BaremetalNode, nid).provision_state == "manageable"
    assert len(asked) == 2


def test_a_stop_of_a_bm_instance_resumes(scheduler, agents, bm_cloud, ctxt):
    bma, _sta, _nsa = agents
    nid = add_node()
    iid, tid = add_bm_instance(bm_cloud)
    m, _ = scheduler()
    m.build_instance(ctxt, tid, iid)
    set_status(iid, "stopping")
    stid = add_task(iid, "stop", "instance")
    die_after(bma, "soft_power_off")
    with pytest.raises(Died):
        m.instance_action(ctxt, stid, iid, "stop")

    adopt(scheduler, stid)
    assert row(models.Task, stid).status == "done"
    inst = row(models.Instance, iid)
    assert (inst.status, inst.power_state) == ("stopped", "shutdown")
    assert bma.calls[-2:] == [("soft_power_off", "bm-agent", nid)] * 2
