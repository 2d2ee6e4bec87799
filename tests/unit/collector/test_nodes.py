"""Bare-metal nodes in the collector: the node list bma's power sync asks
for, and the `node.power` notifications it sends."""

import logging

import pytest

from arame.collector import nodes
from arame.collector.manager import CollectorManager, NotificationEndpoint
from arame.common import ids, secretbox
from arame.common.db import engine, models


def add_node(name="n1", state="available", bma_host="bm1", **kw):
    nid = ids.generate("node")
    now = models.utcnow()
    with engine.session() as s:
        s.add(
            models.BaremetalNode(
                id=nid,
                name=name,
                bmc_address="10.0.0.5",
                bmc_port=623,
                bmc_username="admin",
                bmc_password=secretbox.seal("pw-" + name),
                bmc_interface="lanplus",
                bma_host=bma_host,
                macs=["52:54:00:00:00:01"],
                cpus=1,
                memory_mb=1,
                disk_gb=1,
                provision_state=state,
                maintenance=kw.pop("maintenance", False),
                created_at=now,
                updated_at=now,
                **kw,
            )
        )
    return nid


def node(nid):
    with engine.session() as s:
        return s.get(models.BaremetalNode, nid)


def notify(nid, state, host="bm1", reason=None):
    payload = {"node_id": nid, "host": host, "power_state": state}
    if reason:
        payload["reason"] = reason
    NotificationEndpoint().info({}, "arame-bma.bm1", "node.power", payload, {})


def test_fetch_nodes_is_the_hosts_nodes_with_credentials(db):
    a = add_node("a", state="manageable")
    b = add_node("b", state="active")
    add_node("c", state="enroll")  # not managed yet
    add_node("d", maintenance=True)  # left alone
    add_node("e", bma_host="bm2")  # another agent's
    got = CollectorManager().fetch_nodes({}, "bm1")
    assert [n["id"] for n in got] == sorted([a, b])
    first = next(n for n in got if n["id"] == a)
    assert first == {
        "id": a,
        "bmc_address": "10.0.0.5",
        "bmc_port": 623,
        "bmc_username": "admin",
        "bmc_password": "pw-a",
        "interface": "lanplus",
    }


def test_the_notification_filter_takes_node_power():
    assert NotificationEndpoint.filter_rule.match(
        {}, None, "node.power", {}, {}
    )


def test_power_state_is_written(db):
    nid = add_node(state="manageable")
    notify(nid, "off")
    assert node(nid).power_state == "off"
    notify(nid, "on")
    assert (node(nid).power_state, node(nid).status_reason) == ("on", None)


def test_on_behind_our_back_while_available_is_reported(db, caplog):
    caplog.set_level(logging.WARNING)
    nid = add_node()
    notify(nid, "on")
    n = node(nid)
    assert (n.provision_state, n.power_state) == ("available", "on")
    assert n.status_reason == nodes.UNEXPECTED_ON
    assert any(
        nid in r.getMessage() and "outside Arame" in r.getMessage()
        for r in caplog.records
    )
    notify(nid, "off")
    assert node(nid).status_reason is None


def test_a_lost_bmc_puts_an_idle_node_in_error(db):
    idle = add_node("idle")
    busy = add_node("busy", state="active", instance_id="i-abcdefgh")
    for nid in (idle, busy):
        notify(nid, "error", reason="BMC of bm-x did not answer")
    assert (node(idle).provision_state, node(idle).power_state) == (
        "error",
        "error",
    )
    assert node(idle).status_reason == "BMC: BMC of bm-x did not answer"
    # An active node keeps its tenant; the reason says what is wrong.
    assert node(busy).provision_state == "active"
    assert node(busy).status_reason.startswith("BMC:")


def test_a_node_in_error_keeps_the_reason_that_put_it_there(db):
    nid = add_node("failed")
    with engine.session() as s:
        n = s.get(models.BaremetalNode, nid)
        n.provision_state = "error"
        n.status_reason = (
            "manage failed at validate: BMC refused the credentials"
        )
    notify(nid, "error", reason="BMC of bm-x refused user 'admin'")
    assert (node(nid).power_state, node(nid).status_reason) == (
        "error",
        "manage failed at validate: BMC refused the credentials",
    )


def rows():
    """Every node row as the collector could have changed it."""
    with engine.session() as s:
        return sorted(
            (
                n.id,
                n.provision_state,
                n.power_state,
                n.status_reason,
                n.updated_at,
            )
            for n in s.query(models.BaremetalNode)
        )


@pytest.mark.parametrize(
    "payload",
    [
        {"node_id": "bm-unknown1", "host": "bm1", "power_state": "on"},
        {"node_id": "not-a-node-id", "host": "bm1", "power_state": "on"},
        {"host": "bm1", "power_state": "on"},
    ],
)
def test_unknown_nodes_are_ignored(db, caplog, payload):
    add_node(state="manageable", power_state="off")
    before = rows()
    caplog.set_level(logging.ERROR)
    NotificationEndpoint().info({}, "x", "node.power", payload, {})
    # Nothing written, no node made, and nothing failed: the endpoint
    # logs (and drops) whatever its writer raises.
    assert rows() == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_another_agents_report_and_bad_states_are_ignored(db):
    nid = add_node(state="manageable", power_state="off")
    notify(nid, "on", host="intruder")
    notify(nid, "sideways")
    assert node(nid).power_state == "off"


def test_an_active_nodes_instance_follows(db, cloud):
    from tests.unit.conftest import _add_instance

    iid, _ = _add_instance(status="running", image_id=cloud.image_id)
    nid = add_node(state="active", instance_id=iid)
    notify(nid, "off")
    with engine.session() as s:
        assert s.get(models.Instance, iid).power_state == "shutdown"
