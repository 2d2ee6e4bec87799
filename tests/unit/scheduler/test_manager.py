"""The scheduler's endpoint: each cast runs one flow and always ends its task."""

import pytest

from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.manager import HypervisorManager
from arame.agents.hva.rpcapi import TOPIC as HVA_TOPIC
from arame.common import rpc
from arame.common.context import admin_context
from arame.common.db import models
from arame.scheduler import rpcapi
from arame.scheduler.manager import SchedulerManager
from arame.scheduler.selector import HostSelector


@pytest.fixture
def sched_conf(config):
    config("host_subset_size", 1, group="scheduler")
    config("service_down_time", 60)
    for r in ("cpu", "ram", "disk"):
        config(f"{r}_allocation_ratio", 1.0, group="scheduler")
    return config


class BrokenHVA:
    """Answers spawn with something that is not a dict (a bug on the wire)."""

    def spawn(self, ctxt, host, instance, timeout):
        return None

    def destroy(self, ctxt, host, instance_id, timeout):
        return {}


def test_unknown_action_fails_the_task(sched_conf, add_instance, get_row):
    iid, tid = add_instance(status="running", action="hibernate")
    SchedulerManager(HostSelector(), BrokenHVA()).instance_action(
        admin_context(), tid, iid, "hibernate"
    )
    task = get_row(models.Task, tid)
    assert task.status == "failed"
    assert "unknown action 'hibernate'" in task.error_message
    assert get_row(models.Instance, iid).status == "running"


def test_a_crashing_flow_still_ends_its_task(
    sched_conf, add_host, add_instance, get_row
):
    add_host("hv1")
    iid, tid = add_instance()
    SchedulerManager(HostSelector(), BrokenHVA()).build_instance(
        admin_context(), tid, iid
    )
    task = get_row(models.Task, tid)
    assert task.status == "failed"
    assert task.error_message.startswith("internal error: AttributeError")
    inst = get_row(models.Instance, iid)
    assert inst.status == "error"


@pytest.fixture
def servers(bus, sched_conf):
    """The scheduler and one fake hypervisor agent on the in-process bus."""
    driver = FakeDriver("hv1")
    hva_mgr = HypervisorManager("hv1", driver, rpc.get_notifier("test"))
    started = [
        rpc.get_server(rpcapi.TOPIC, "sched1", [SchedulerManager()]),
        rpc.get_server(HVA_TOPIC, "hv1", [hva_mgr]),
    ]
    for server in started:
        server.start()
    yield driver
    for server in started:
        server.stop()
    for server in started:
        server.wait()


def test_build_and_delete_over_the_bus(
    servers, add_host, add_instance, get_row, wait_for, behind_the_back
):
    driver = servers
    add_host("hv1")
    iid, tid = add_instance()
    api = rpcapi.SchedulerAPI()
    ctxt = admin_context()

    api.build_instance(ctxt, tid, iid)
    wait_for(lambda: get_row(models.Task, tid).status in ("done", "failed"))
    assert get_row(models.Task, tid).status == "done"
    assert get_row(models.Instance, iid).status == "running"
    assert driver.list_instances() == {iid: "running"}

    behind_the_back(iid, "shuttingdown")
    from arame.common import tasks
    from arame.common.db import engine

    with engine.session() as s:
        tid2 = tasks.create(
            s,
            account_id="a-admin",
            resource_id=iid,
            resource_type="instance",
            action="delete",
            timeout_s=60,
        ).id
    api.delete_instance(ctxt, tid2, iid)
    wait_for(lambda: get_row(models.Task, tid2).status in ("done", "failed"))
    assert get_row(models.Instance, iid).status == "terminated"
    assert driver.list_instances() == {}
