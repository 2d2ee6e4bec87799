"""The bm build and delete flows with fake bma/sta/nsa: the steps, what
each agent is told, and compensation."""

import pytest
import sqlalchemy as sa

from arame.common.db import engine, models
from arame.scheduler.baremetal.build import BaremetalBuildFlow
from arame.scheduler.baremetal.delete import BaremetalDeleteFlow

from .conftest import add_bm_instance, add_node, remote


@pytest.fixture
def build(ctxt, agents, pxe_script):
    bma, sta, nsa = agents

    def run(iid, tid):
        flow = BaremetalBuildFlow(ctxt, tid, iid, bma, nsa, sta)
        flow.run()
        return flow

    return run


@pytest.fixture
def delete(ctxt, agents):
    bma, sta, nsa = agents

    def run(iid):
        with engine.session() as s:
            s.execute(
                sa.update(models.Instance)
                .where(models.Instance.id == iid)
                .values(status="shuttingdown")
            )
        from .conftest import add_task

        tid = add_task(iid, "delete", "instance")
        BaremetalDeleteFlow(ctxt, tid, iid, bma, nsa, sta).run()
        return tid

    return run


def row(model, key):
    with engine.session() as s:
        return s.get(model, key)


def steps(tid):
    return [(e.step, e.status) for e in row(models.Task, tid).events]


def root_volume(iid):
    with engine.session() as s:
        return s.scalar(
            sa.select(models.Volume).where(models.Volume.root_of == iid)
        )


def port(iid):
    with engine.session() as s:
        return s.scalar(
            sa.select(models.Port).where(models.Port.instance_id == iid)
        )


def test_build_deploys_the_node_and_runs(build, agents, bm_cloud, pxe_script):
    bma, sta, nsa = agents
    nid = add_node(mac="52:54:00:AA:BB:01")
    iid, tid = add_bm_instance(bm_cloud)
    build(iid, tid)

    assert row(models.Task, tid).status == "done", row(models.Task, tid)
    assert steps(tid) == [
        ("schedule", "done"),
        ("volume", "done"),
        ("names", "done"),
        ("boot", "done"),
    ]
    inst, node = row(models.Instance, iid), row(models.BaremetalNode, nid)
    assert (inst.status, inst.node_id, inst.host, inst.power_state) == (
        "running",
        nid,
        "bm-agent",
        "running",
    )
    assert (node.provision_state, node.instance_id, node.power_state) == (
        "active",
        iid,
        "on",
    )
    p = port(iid)
    # The node's own NIC gets the address; it is the iSCSI initiator.
    assert p.mac_address == "52:54:00:aa:bb:01"
    vol = root_volume(iid)
    assert sta.calls == [
        ("import_image", "st1", bm_cloud["image_id"]),
        ("create_volume", "st1", vol.id),
        ("export_volume", "st1", p.ip_address),
    ]
    assert pxe_script == [
        {
            "portal": "10.9.0.1:3260",
            "iqn": f"iqn.2026-11.arame:{vol.id}",
            "lun": 1,
            "chap_user": vol.chap_user,
            "chap_secret": vol.chap_secret,
        }
    ]
    assert nsa.calls == [
        ("ensure_network", "ns1", bm_cloud["network_id"]),
        ("add_reservation", "ns1", p.mac_address),
    ]
    assert nsa.kwargs["add_reservation"]["boot_script"].startswith("#!ipxe")
    assert bma.calls == [
        ("set_boot_device", "bm-agent", "pxe"),
        ("power_on", "bm-agent", nid),
    ]
    assert bma.kwargs["power_on"]["node"]["bmc_password"] == "s3cret-pw"


def test_no_node_fails_and_explains(build, agents, bm_cloud):
    add_node(cpus=1)
    iid, tid = add_bm_instance(bm_cloud)
    build(iid, tid)
    task = row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "schedule")
    assert "no valid node" in task.error_message
    assert "too small" in task.error_message
    assert row(models.Instance, iid).status == "error"
    assert all(not a.calls for a in agents)


def test_a_kernel_image_is_refused_and_the_node_freed(
    build, agents, bm_cloud, cloud
):
    nid = add_node()
    iid, tid = add_bm_instance(bm_cloud, image_id=cloud.image_id)
    build(iid, tid)
    task = row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "volume")
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.instance_id) == ("available", None)


def test_failure_before_the_bmc_undoes_and_frees_the_node(
    build, agents, bm_cloud
):
    bma, sta, nsa = agents
    nsa.fail["add_reservation"] = remote("DnsmasqFailed", "no dnsmasq")
    nid = add_node(mac="52:54:00:aa:bb:02")
    iid, tid = add_bm_instance(bm_cloud)
    build(iid, tid)

    task = row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "names")
    assert ("undo-volume", "done") in steps(tid)
    assert sta.methods()[-2:] == ["unexport_volume", "delete_volume"]
    assert root_volume(iid).status == "deleted"
    assert "remove_reservation" in nsa.methods()
    assert bma.calls == []
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.instance_id) == ("available", None)
    assert row(models.Instance, iid).status == "error"
    # The node's MAC is free for its next instance.
    assert port(iid).mac_address != "52:54:00:aa:bb:02"


def test_power_on_failure_puts_the_node_in_error(build, agents, bm_cloud):
    bma, sta, _nsa = agents
    bma.fail["power_on"] = remote("BMCUnreachable", "BMC did not answer")
    nid = add_node()
    iid, tid = add_bm_instance(bm_cloud)
    build(iid, tid)

    task = row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "boot")
    assert bma.methods() == ["set_boot_device", "power_on", "power_off"]
    assert sta.methods()[-1] == "delete_volume"
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.instance_id) == ("error", None)
    assert "failed at boot" in node.status_reason
    assert "BMCUnreachable" in node.status_reason


def test_delete_during_build_cancels_and_frees(build, agents, bm_cloud):
    bma, sta, _nsa = agents
    nid = add_node()
    iid, tid = add_bm_instance(bm_cloud)

    def deleted(*a, **kw):
        with engine.session() as s:
            s.execute(
                sa.update(models.Instance)
                .where(models.Instance.id == iid)
                .values(status="shuttingdown")
            )
        return {"iqn": "iqn.x:y", "portal": "10.9.0.1:3260", "lun": 1}

    sta.export_volume = deleted
    build(iid, tid)
    # Noticed before the BMC is touched: everything undone, node free.
    task = row(models.Task, tid)
    assert task.status == "failed" and "cancelled" in task.error_message
    assert ("boot", "cancelled") in steps(tid)
    assert row(models.Instance, iid).status == "shuttingdown"
    assert bma.calls == []
    assert sta.methods()[-1] == "delete_volume"
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.instance_id) == ("available", None)


def test_delete_powers_off_cleans_and_frees(
    build, delete, agents, bm_cloud, get_row
):
    bma, sta, nsa = agents
    nid = add_node()
    iid, tid = add_bm_instance(bm_cloud)
    build(iid, tid)
    vol = root_volume(iid)
    mac = port(iid).mac_address
    for a in agents:
        a.calls.clear()

    dtid = delete(iid)
    task = row(models.Task, dtid)
    assert task.status == "done", task.error_message
    assert steps(dtid) == [
        ("power-off", "done"),
        ("volume", "done"),
        ("unname", "done"),
        ("clean", "done"),
    ]
    assert bma.calls == [("power_off", "bm-agent", nid)]
    assert sta.calls == [
        ("unexport_volume", "st1", vol.id),
        ("delete_volume", "st1", vol.id),
    ]
    assert nsa.calls == [("remove_reservation", "ns1", mac)]
    assert root_volume(iid).status == "deleted"
    inst, node = row(models.Instance, iid), row(models.BaremetalNode, nid)
    assert inst.status == "terminated" and port(iid) is None
    assert (node.provision_state, node.instance_id, node.power_state) == (
        "available",
        None,
        "off",
    )
    quota = get_row(models.Quota, "a-admin")
    assert quota is None or quota.instances_used == 0


def test_delete_failure_leaves_node_in_error_and_retry_cleans(
    build, delete, agents, bm_cloud
):
    bma, sta, _nsa = agents
    nid = add_node()
    iid, tid = add_bm_instance(bm_cloud)
    build(iid, tid)
    bma.fail["power_off"] = remote("BMCAuthFailed", "wrong password")

    dtid = delete(iid)
    assert row(models.Task, dtid).error_step == "power-off"
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.instance_id) == ("error", iid)
    assert "BMC refused the credentials" in node.status_reason
    assert row(models.Instance, iid).status == "error"
    assert "delete_volume" not in sta.methods()

    del bma.fail["power_off"]
    dtid = delete(iid)
    assert row(models.Task, dtid).status == "done"
    node = row(models.BaremetalNode, nid)
    assert (node.provision_state, node.instance_id) == ("available", None)
    assert row(models.Instance, iid).status == "terminated"


def test_a_new_instance_can_take_the_released_node(
    build, delete, agents, bm_cloud
):
    nid = add_node(mac="52:54:00:aa:bb:03")
    iid, tid = add_bm_instance(bm_cloud, name="first")
    build(iid, tid)
    delete(iid)
    iid2, tid2 = add_bm_instance(bm_cloud, name="second")
    build(iid2, tid2)
    assert row(models.Task, tid2).status == "done"
    assert row(models.BaremetalNode, nid).instance_id == iid2
    assert port(iid2).mac_address == "52:54:00:aa:bb:03"


@pytest.mark.parametrize(
    "action,busy,method,final,power",
    [
        ("stop", "stopping", "soft_power_off", "stopped", "shutdown"),
        ("reboot", "rebooting", "reboot", "running", "running"),
    ],
)
def test_actions_reach_the_nodes_bmc(
    build, agents, bm_cloud, ctxt, action, busy, method, final, power
):
    from arame.scheduler.manager import SchedulerManager

    from .conftest import add_task

    bma, sta, nsa = agents
    nid = add_node()
    iid, tid = add_bm_instance(bm_cloud)
    build(iid, tid)
    with engine.session() as s:
        s.get(models.Instance, iid).status = busy
    atid = add_task(iid, action, "instance")
    mgr = SchedulerManager(
        selector=object(), hva=object(), nsa=nsa, sta=sta, bma=bma
    )
    mgr.instance_action(ctxt, atid, iid, action)
    assert row(models.Task, atid).status == "done"
    assert bma.calls[-1] == (method, "bm-agent", nid)
    inst = row(models.Instance, iid)
    assert (inst.status, inst.power_state) == (final, power)


def test_names_registered_after_a_delete_cleaned_up_are_removed(
    build, delete, agents, bm_cloud
):
    # The build's names step got its answer only after a delete had
    # overtaken it, unnamed the node and freed its port (seen under a broker
    # restart): the build's undo must still remove what it registered.
    _bma, _sta, nsa = agents
    add_node()
    iid, tid = add_bm_instance(bm_cloud)
    real_add = nsa.add_reservation

    def add_late(*a, **kw):
        delete(iid)  # unname (nothing there yet), release, terminate
        assert port(iid) is None
        return real_add(*a, **kw)

    nsa.add_reservation = add_late
    build(iid, tid)
    added = [c for c in nsa.calls if c[0] == "add_reservation"]
    removed = [c for c in nsa.calls if c[0] == "remove_reservation"]
    assert added and removed[-1][2] == added[-1][2]  # the node's MAC
    # The last word on the MAC is a removal.
    last = [c for c in nsa.calls if c[2] == added[-1][2]][-1]
    assert last[0] == "remove_reservation"
    assert row(models.Task, tid).status == "failed"
