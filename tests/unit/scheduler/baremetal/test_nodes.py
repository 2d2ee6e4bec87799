"""Node tasks: manage validates the BMC, provide powers the node off; a
refusal puts the node (only) in error with a clear reason."""

import pytest

from arame.common.db import engine, models
from arame.scheduler.baremetal.nodes import ManageFlow, ProvideFlow
from arame.scheduler.manager import SchedulerManager

from .conftest import add_node, add_task, remote


def row(model, key):
    with engine.session() as s:
        return s.get(model, key)


@pytest.fixture
def run(ctxt, agents):
    bma = agents[0]

    def go(flow_cls, nid):
        tid = add_task(nid, flow_cls.action)
        flow_cls(ctxt, tid, nid, bma).run()
        return row(models.Task, tid)

    return go


def test_manage_makes_the_node_manageable(run, agents, bm_cloud):
    nid = add_node(state="enroll")
    task = run(ManageFlow, nid)
    assert task.status == "done"
    assert [(e.step, e.status, e.host) for e in task.events] == [
        ("validate", "done", "bm-agent")
    ]
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.power_state, node.bma_host) == (
        "manageable",
        "off",
        "bm-agent",
    )
    assert agents[0].calls == [("validate", "bm-agent", nid)]


def test_wrong_password_is_error_with_a_clear_reason(run, agents, bm_cloud):
    agents[0].fail["validate"] = remote(
        "BMCAuthFailed", "BMC of n1 refused user 'admin': wrong password"
    )
    nid = add_node(state="enroll")
    other = add_node("n2", state="available")
    task = run(ManageFlow, nid)
    assert (task.status, task.error_step) == ("failed", "validate")
    node = row(models.BaremetalNode, nid)
    assert node.provision_state == "error"
    assert node.status_reason.startswith("BMC refused the credentials")
    assert "s3cret-pw" not in node.status_reason + task.error_message
    # Nothing else disturbed.
    assert row(models.BaremetalNode, other).provision_state == "available"


def test_manage_from_error_recovers(run, agents, bm_cloud):
    nid = add_node(state="error")
    assert run(ManageFlow, nid).status == "done"
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.status_reason) == ("manageable", None)


def test_provide_powers_off_then_available(run, agents, bm_cloud):
    nid = add_node(state="manageable")
    assert run(ProvideFlow, nid).status == "done"
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.power_state) == ("available", "off")
    assert agents[0].methods() == ["power_off"]


def test_an_action_from_the_wrong_state_touches_nothing(run, agents, bm_cloud):
    nid = add_node(state="active")
    task = run(ProvideFlow, nid)
    assert task.status == "failed" and "active" in task.error_message
    assert row(models.BaremetalNode, nid).provision_state == "active"
    assert agents[0].calls == []


def test_no_bma_up_fails_the_task_only(run, agents, bm_cloud):
    with engine.session() as s:
        for svc in s.query(models.Service):
            svc.last_heartbeat_at = models.utcnow().replace(year=2000)
    nid = add_node(state="enroll")
    task = run(ManageFlow, nid)
    assert task.status == "failed" and "arame-bma" in task.error_message
    assert row(models.BaremetalNode, nid).provision_state == "enroll"


def test_the_manager_dispatches_node_actions(ctxt, agents, bm_cloud):
    bma, sta, nsa = agents
    mgr = SchedulerManager(
        selector=object(), hva=object(), nsa=nsa, sta=sta, bma=bma
    )
    nid = add_node(state="enroll")
    tid = add_task(nid, "manage")
    mgr.node_action(ctxt, tid, nid, "manage")
    assert row(models.Task, tid).status == "done"
    tid = add_task(nid, "explode")
    mgr.node_action(ctxt, tid, nid, "explode")
    assert row(models.Task, tid).status == "failed"
