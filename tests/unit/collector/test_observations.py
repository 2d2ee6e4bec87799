"""What agents observe, written by the collector: heartbeats, inventory,
power states."""

import datetime as dt

import oslo_messaging as messaging
import sqlalchemy as sa

from arame.collector import observations
from arame.collector.manager import CollectorManager, NotificationEndpoint
from arame.common import tasks
from arame.common.db import engine, models


def heartbeat(host="node1", binary="arame-hva", hosts=None, **extra):
    payload = {
        "host": host,
        "binary": binary,
        "topic": "hva",
        "version": "0.1.0",
        **extra,
    }
    if hosts is not None:
        payload["hosts"] = hosts
    return payload


def inventory(name, **kw):
    inv = {
        "name": name,
        "hypervisor_type": "fake",
        "vcpus": 32,
        "memory_mb": 131072,
        "disk_gb": 2000,
    }
    inv.update(kw)
    return inv


def record(payload):
    with engine.session() as s:
        observations.record_heartbeat(s, payload)


def all_rows(model):
    with engine.session() as s:
        return s.scalars(sa.select(model)).all()


def test_heartbeat_creates_the_service_row(db):
    record(heartbeat())
    (svc,) = all_rows(models.Service)
    assert (svc.host, svc.binary, svc.topic, svc.version) == (
        "node1",
        "arame-hva",
        "hva",
        "0.1.0",
    )
    assert svc.last_heartbeat_at is not None
    assert all_rows(models.Host) == []


def test_next_heartbeat_updates_the_same_service_row(db):
    record(heartbeat())
    first = all_rows(models.Service)[0].last_heartbeat_at
    record(heartbeat(version="0.2.0"))
    (svc,) = all_rows(models.Service)
    assert svc.version == "0.2.0"
    assert svc.last_heartbeat_at >= first


def test_heartbeat_with_hosts_registers_them_with_their_capacity(db):
    record(heartbeat(hosts=[inventory("hv1"), inventory("hv2", vcpus=8)]))
    hosts = {h.name: h for h in all_rows(models.Host)}
    assert set(hosts) == {"hv1", "hv2"}
    assert (
        hosts["hv2"].vcpus,
        hosts["hv2"].memory_mb,
        hosts["hv2"].disk_gb,
    ) == (8, 131072, 2000)
    assert hosts["hv1"].provider == "vm"
    assert hosts["hv1"].hypervisor_type == "fake"
    assert hosts["hv1"].last_report_at is not None
    assert hosts["hv1"].id.startswith("hn-")
    assert len(all_rows(models.Service)) == 1


def test_heartbeat_updates_known_hosts_and_keeps_their_claims(db, add_host):
    add_host("hv1", vcpus=4, age_s=3600, vcpus_used=3, memory_mb_used=1024)
    record(heartbeat(hosts=[inventory("hv1", vcpus=16), inventory("hv3")]))
    hosts = {h.name: h for h in all_rows(models.Host)}
    assert set(hosts) == {"hv1", "hv3"}
    hv1 = hosts["hv1"]
    assert hv1.vcpus == 16
    assert (hv1.vcpus_used, hv1.memory_mb_used) == (3, 1024)
    age = (models.utcnow() - hv1.last_report_at).total_seconds()
    assert age < 60


def test_bare_metal_heartbeat_registers_bm_hosts(db):
    record(
        heartbeat(
            binary="arame-bma", provider="bm", hosts=[inventory("node-7")]
        )
    )
    assert all_rows(models.Host)[0].provider == "bm"


def power(instance_id, state, host="hv1", reason="guest died"):
    with engine.session() as s:
        observations.record_power_state(
            s,
            {
                "instance_id": instance_id,
                "host": host,
                "power_state": state,
                "reason": reason,
            },
        )


def test_crash_of_a_running_instance_stops_it_with_the_reason(
    add_instance, get_row
):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    power(iid, "crashed")
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.power_state) == ("stopped", "crashed")
    assert inst.status_reason == "guest died"


def test_shutdown_from_inside_the_guest_stops_it(add_instance, get_row):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    power(iid, "shutdown", reason=None)
    inst = get_row(models.Instance, iid)
    assert inst.status == "stopped"
    assert inst.status_reason == "guest stopped"


def test_power_state_of_a_busy_instance_without_a_flow_changes_only_it(
    add_instance, get_row
):
    # Busy, but no task runs on it: nothing owns the status, and a busy
    # state has no reading of the host's report to settle.
    iid, tid = add_instance(status="rebooting", host="hv1", claimed=True)
    with engine.session() as s:
        tasks.fail(s, tid, "reboot", "lost")
    power(iid, "shutdown")
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.power_state) == ("rebooting", "shutdown")


def test_report_from_another_host_is_ignored(add_instance, get_row):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    power(iid, "crashed", host="hv2")  # a stale guest elsewhere
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.power_state) == ("running", None)


def test_report_of_an_unknown_instance_is_ignored(db):
    power("i-zzzzzzzz", "crashed")  # does not raise


def test_notification_endpoint_writes_and_always_acknowledges(
    add_instance, get_row
):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    ep = NotificationEndpoint()
    ok = ep.info(
        {},
        "hva.hv1",
        "instance.state",
        {
            "instance_id": iid,
            "host": "hv1",
            "power_state": "crashed",
            "reason": "oom",
        },
        {},
    )
    assert ok == messaging.NotificationResult.HANDLED
    assert get_row(models.Instance, iid).status == "stopped"
    # A malformed payload is logged and dropped, not requeued forever.
    bad = ep.info({}, "hva.hv1", "service.heartbeat", {"host": "x"}, {})
    assert bad == messaging.NotificationResult.HANDLED


def test_collector_tells_an_agent_what_it_should_hold(add_instance):
    on_hv1, _ = add_instance(status="running", host="hv1", claimed=True)
    add_instance(status="running", host="hv2", claimed=True)
    add_instance(status="terminated", host="hv1", claimed=False)
    got = CollectorManager().expected_instances({}, "hv1")
    assert got == {
        "instances": {
            on_hv1: {
                "status": "running",
                "power_state": None,
                "compare": True,
            }
        }
    }


def test_heartbeat_marks_a_host_up_for_the_scheduler(db, config):
    from arame.scheduler.filters.host import ServiceAliveFilter
    from arame.scheduler.host_state import HostState, RequestSpec

    config("service_down_time", 30)
    record(heartbeat(hosts=[inventory("hv1")]))
    (row,) = all_rows(models.Host)
    spec = RequestSpec("i-aaaaaaaa", "a-admin", "vm", 1, 512, 5)
    assert (
        ServiceAliveFilter().reason_to_reject(HostState.from_row(row), spec)
        is None
    )
    stale = HostState.from_row(row)
    stale.last_report_at -= dt.timedelta(seconds=120)
    assert (
        ServiceAliveFilter().reason_to_reject(stale, spec).startswith("down")
    )


def test_guest_restarted_behind_our_back_shows_running_again(
    add_instance, get_row
):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    power(iid, "crashed")
    power(iid, "running", reason="HA restart")
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.power_state) == ("running", "running")


def test_ha_restart_is_recorded_once_in_the_instance_history(
    add_instance, get_row
):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    payload = {
        "instance_id": iid,
        "host": "hv1",
        "power_state": "running",
        "reason": "the emulator died; restarted by HA on hv1",
        "event": "ha_restart",
        "event_id": "e1",
        "duration_ms": 42.0,
    }
    for _ in range(2):  # a notification delivered twice
        with engine.session() as s:
            observations.record_power_state(s, dict(payload))
    with engine.session() as s:
        found = s.scalars(
            sa.select(models.Task).where(
                models.Task.resource_id == iid, models.Task.action != "create"
            )
        ).all()
        assert [(t.action, t.status) for t in found] == [
            ("ha_restart", "done")
        ]
        steps = [(e.step, e.status, e.host) for e in found[0].events]
    assert steps == [("detected", "done", "hv1"), ("restart", "done", "hv1")]
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.power_state) == ("running", "running")


def test_ha_that_gave_up_leaves_a_failed_task_and_a_stopped_instance(
    add_instance, get_row
):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    with engine.session() as s:
        observations.record_power_state(
            s,
            {
                "instance_id": iid,
                "host": "hv1",
                "power_state": "crashed",
                "reason": "the emulator died; not restarted: 3 HA restarts",
                "event": "ha_gave_up",
                "event_id": "e2",
            },
        )
    with engine.session() as s:
        task = s.scalars(
            sa.select(models.Task).where(
                models.Task.resource_id == iid, models.Task.action != "create"
            )
        ).one()
        assert (task.action, task.status, task.error_step) == (
            "ha_restart",
            "failed",
            "restart",
        )
    assert get_row(models.Instance, iid).status == "stopped"


def test_a_guest_missing_from_its_host_puts_the_instance_in_error(
    add_instance, get_row
):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    with engine.session() as s:
        observations.record_power_state(
            s,
            {
                "instance_id": iid,
                "host": "hv1",
                "power_state": "nostate",
                "reason": "power-state sync: no guest on hv1",
                "event": "missing",
            },
        )
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.status_reason) == (
        "error",
        "power-state sync: no guest on hv1",
    )


def test_orphans_of_terminated_instances_are_removed_others_left(add_instance):
    dead, _ = add_instance(status="terminated", host="hv1")
    live, _ = add_instance(status="running", host="hv2", claimed=True)

    class Hva:
        casts = []

        def cast_destroy(self, ctxt, host, iid):
            self.casts.append((host, iid))

    hva = Hva()
    ep = NotificationEndpoint(hva=hva)
    ep.info(
        {},
        "arame-hva.hv1",
        "host.orphans",
        {
            "host": "hv1",
            "instances": [
                {"instance_id": dead, "power_state": "running"},
                {"instance_id": live, "power_state": "running"},
                {"instance_id": "i-zzzzzzzz", "power_state": "shutdown"},
                {"instance_id": "../etc", "power_state": "shutdown"},
            ],
        },
        {},
    )
    assert hva.casts == [("hv1", dead)]
