"""A host an operator disabled or put in maintenance gets no new
instances; the guests it already runs stay where they are."""

import pytest
import sqlalchemy as sa

from arame.common.db import engine, models
from arame.scheduler.filters.host import ServiceAliveFilter
from arame.scheduler.flows.build import BuildFlow
from arame.scheduler.host_state import HostState, RequestSpec, load_hosts
from arame.scheduler.selector import HostSelector


def _set(name, **values):
    with engine.session() as s:
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == name)
            .values(**values)
        )


def test_filter_names_maintenance_and_disabled(sched_conf):
    base = dict(
        name="hv1",
        provider="vm",
        hypervisor_type="fake",
        enabled=True,
        last_report_at=models.utcnow(),
        vcpus=4,
        memory_mb=4096,
        disk_gb=100,
        vcpus_used=0,
        memory_mb_used=0,
        disk_gb_used=0,
        instance_count=0,
    )
    spec = RequestSpec("i-aaaaaaaa", "a-aaaaaaaa", "vm", 1, 512, 5)
    f = ServiceAliveFilter()
    assert f.reason_to_reject(HostState(**base), spec) is None
    assert (
        f.reason_to_reject(HostState(**base, maintenance=True), spec)
        == "in maintenance"
    )
    off = {**base, "enabled": False}
    assert f.reason_to_reject(HostState(**off, maintenance=True), spec) == (
        "disabled"
    )


def test_load_hosts_reads_maintenance(add_host, sched_conf):
    add_host("hv1")
    add_host("hv2")
    _set("hv2", maintenance=True, maintenance_reason="bios")
    with engine.session() as s:
        hosts = {h.name: h for h in load_hosts(s)}
    assert (hosts["hv1"].maintenance, hosts["hv2"].maintenance) == (
        False,
        True,
    )


@pytest.mark.parametrize(
    "out", [{"enabled": False}, {"maintenance": True}], ids=str
)
def test_new_instances_go_elsewhere_and_old_ones_stay(
    ctxt, hva, sched_conf, add_host, add_instance, get_row, out
):
    add_host("hv1")
    add_host("hv2", memory_mb_used=12000)  # the emptier hv1 would win
    old, _ = add_instance(name="old", status="running", host="hv1")
    _set("hv1", **out)
    placed = []
    for n in range(3):
        iid, tid = add_instance(name=f"new{n}")
        BuildFlow(ctxt, tid, iid, HostSelector(), hva).run()
        task = get_row(models.Task, tid)
        assert task.status == "done", (task.error_step, task.error_message)
        placed.append(get_row(models.Instance, iid).host)
    assert placed == ["hv2", "hv2", "hv2"]
    inst = get_row(models.Instance, old)
    assert (inst.status, inst.host) == ("running", "hv1")
    assert not [c for c in hva.calls if c[1] == "hv1"]


def test_no_valid_host_says_maintenance(
    ctxt, hva, sched_conf, add_host, add_instance, get_row
):
    add_host("hv1")
    _set("hv1", maintenance=True)
    iid, tid = add_instance()
    BuildFlow(ctxt, tid, iid, HostSelector(), hva).run()
    task = get_row(models.Task, tid)
    assert task.status == "failed"
    assert "ServiceAliveFilter (hv1)" in task.error_message
