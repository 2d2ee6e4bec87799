"""The build flow: schedule (filters, weighers, claim) then spawn on hva."""

import datetime as dt

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.common import tasks as task_records
from arame.common.db import engine, models
from arame.scheduler.flows.build import BuildFlow
from arame.scheduler.leases import Leases
from arame.scheduler.selector import HostSelector


@pytest.fixture
def build(ctxt, hva, sched_conf):
    def run(instance_id, task_id, selector=None):
        flow = BuildFlow(
            ctxt, task_id, instance_id, selector or HostSelector(), hva
        )
        flow.run()
        return flow

    return run


def events(task):
    return [(e.step, e.status, e.host) for e in task.events]


def test_build_places_spawns_and_ends_running(
    build, hva, add_host, add_instance, get_row, usage
):
    add_host("hv1")
    iid, tid = add_instance()
    build(iid, tid)

    task = get_row(models.Task, tid)
    assert task.status == "done"
    assert task.error_step is None and task.error_message is None
    assert events(task) == [
        ("schedule", "done", "hv1"),
        ("spawn", "done", "hv1"),
    ]
    assert all(
        e.duration_ms is not None and e.duration_ms >= 0 for e in task.events
    )
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.power_state, inst.host, inst.claimed) == (
        "running",
        "running",
        "hv1",
        True,
    )
    assert usage() == (1, 512, 5, 1)
    assert hva.calls == [("spawn", "hv1", iid)]


def test_spawn_is_given_what_the_agent_needs_and_a_deadline(
    build, ctxt, hva, add_host, add_instance, sched_conf
):
    sched_conf("agent_call_timeout", 42, group="scheduler")
    add_host("hv1")
    iid, tid = add_instance(name="Web.1")
    got = {}
    original = hva.spawn

    def spawn(ctxt, host, instance, timeout):
        got.update(instance)
        return original(ctxt, host, instance, timeout)

    hva.spawn = spawn

    build(iid, tid)
    assert got["id"] == iid
    assert got["name"] == "Web.1"
    assert (got["vcpus"], got["memory_mb"], got["disk_gb"]) == (1, 512, 5)
    assert "image_id" in got and "user_data" in got
    assert 1 <= hva.timeouts[0] <= 42


def test_build_picks_the_host_with_most_free_memory(
    build, add_host, add_instance, get_row
):
    add_host("busy", memory_mb_used=12000)
    add_host("idle")
    iid, tid = add_instance()
    build(iid, tid)
    assert get_row(models.Instance, iid).host == "idle"


def test_spawn_failure_fails_the_task_compensates_and_puts_instance_in_error(
    build, hva, add_host, add_instance, get_row, usage
):
    add_host("hv1")
    iid, tid = add_instance()
    hva.fail["spawn"] = RuntimeError("libvirt said no")
    build(iid, tid)

    task = get_row(models.Task, tid)
    assert task.status == "failed"
    assert task.error_step == "spawn"
    assert "libvirt said no" in task.error_message
    assert events(task) == [
        ("schedule", "done", "hv1"),
        ("spawn", "failed", "hv1"),
        ("undo-spawn", "done", "hv1"),
    ]
    inst = get_row(models.Instance, iid)
    assert inst.status == "error"
    assert "spawn" in inst.status_reason
    assert "libvirt said no" in inst.status_reason
    assert inst.claimed is False
    assert usage() == (0, 0, 0, 0)
    assert hva.methods() == ["spawn", "destroy"]


def test_spawn_unanswered_is_asked_again_until_answered(
    build, hva, add_host, add_instance, get_row
):
    # hva restarting: the first ask gets no answer, the second does.
    add_host("hv1")
    iid, tid = add_instance()
    hva.fail["spawn"] = messaging.MessagingTimeout("timed out")
    hva.hooks["spawn"] = lambda _id: (
        hva.fail.pop("spawn") if hva.methods().count("spawn") == 2 else None
    )
    build(iid, tid)
    assert hva.methods().count("spawn") == 2
    assert get_row(models.Task, tid).status == "done"
    assert get_row(models.Instance, iid).status == "running"


def test_spawn_unanswered_on_a_host_that_went_down_fails(
    build, hva, add_host, add_instance, get_row
):
    add_host("hv1")
    iid, tid = add_instance()
    hva.fail["spawn"] = messaging.MessagingTimeout("timed out")

    def host_dies(_id):
        with engine.session() as s:
            s.execute(
                sa.update(models.Host)
                .where(models.Host.name == "hv1")
                .values(last_report_at=models.utcnow() - dt.timedelta(hours=1))
            )

    hva.hooks["spawn"] = host_dies
    build(iid, tid)
    task = get_row(models.Task, tid)
    assert task.error_message == "hv1 is down (no heartbeat)"
    assert hva.methods().count("spawn") == 1
    assert get_row(models.Instance, iid).status == "error"


def test_remote_error_is_reported_with_its_type(
    build, hva, add_host, add_instance, get_row
):
    add_host("hv1")
    iid, tid = add_instance()
    hva.fail["spawn"] = messaging.RemoteError("InstanceNotFound", "gone")
    build(iid, tid)
    assert get_row(models.Task, tid).error_message == "InstanceNotFound: gone"


def test_failed_undo_keeps_the_claim(
    build, hva, add_host, add_instance, get_row, usage
):
    add_host("hv1")
    iid, tid = add_instance()
    hva.fail["spawn"] = RuntimeError("boom")
    hva.fail["destroy"] = RuntimeError("host unreachable")
    build(iid, tid)

    task = get_row(models.Task, tid)
    assert task.status == "failed" and task.error_step == "spawn"
    assert ("undo-spawn", "failed", "hv1") in events(task)
    inst = get_row(models.Instance, iid)
    # The guest may still be on hv1: its capacity stays taken until a
    # DELETE removes it.
    assert inst.status == "error" and inst.claimed is True
    assert usage() == (1, 512, 5, 1)


def test_no_hosts_fails_at_schedule_with_no_valid_host(
    build, hva, add_instance, get_row
):
    iid, tid = add_instance()
    build(iid, tid)
    task = get_row(models.Task, tid)
    assert task.status == "failed"
    assert task.error_step == "schedule"
    assert task.error_message.startswith("no valid host")
    assert events(task) == [("schedule", "failed", None)]
    inst = get_row(models.Instance, iid)
    assert inst.status == "error"
    assert "no valid host" in inst.status_reason
    assert hva.calls == []


def test_no_valid_host_explains_why(build, add_host, add_instance, get_row):
    add_host("small1", memory_mb=256)
    add_host("off", enabled=False)
    iid, tid = add_instance()
    build(iid, tid)
    msg = get_row(models.Task, tid).error_message
    assert "RamFilter (small1)" in msg
    assert "ServiceAliveFilter (off)" in msg


def test_claim_lost_on_first_host_moves_to_the_next(
    build, add_host, add_instance, get_row
):
    # No filters: the selector offers a host the claim then finds full.
    add_host("full", memory_mb=100000, vcpus=0)
    add_host("ok")
    iid, tid = add_instance()
    build(iid, tid, selector=HostSelector(filters=[]))
    assert get_row(models.Task, tid).status == "done"
    assert get_row(models.Instance, iid).host == "ok"


def test_every_claim_lost_fails_the_schedule_step(
    build, add_host, add_instance, get_row
):
    add_host("full", vcpus=0)
    iid, tid = add_instance()
    build(iid, tid, selector=HostSelector(filters=[]))
    task = get_row(models.Task, tid)
    assert task.error_step == "schedule"
    assert "claimed by concurrent requests" in task.error_message
    assert get_row(models.Instance, iid).status == "error"


def test_delete_during_spawn_cancels_the_build(
    build, hva, add_host, add_instance, get_row, usage, behind_the_back
):
    add_host("hv1")
    iid, tid = add_instance()
    hva.hooks["spawn"] = lambda i: behind_the_back(i, "shuttingdown")
    build(iid, tid)

    assert hva.methods() == ["spawn", "destroy"]
    inst = get_row(models.Instance, iid)
    assert inst.status == "shuttingdown"  # not error: the delete wins
    assert inst.status_reason is None
    assert inst.claimed is False
    assert usage() == (0, 0, 0, 0)
    task = get_row(models.Task, tid)
    assert task.status == "failed"
    assert "cancelled" in task.error_message


def test_delete_before_placement_cancels_without_touching_a_host(
    build, hva, add_host, add_instance, get_row, usage
):
    add_host("hv1")
    iid, tid = add_instance(status="shuttingdown")
    build(iid, tid)
    assert hva.calls == []
    assert usage() == (0, 0, 0, 0)
    assert get_row(models.Instance, iid).status == "shuttingdown"
    task = get_row(models.Task, tid)
    assert task.status == "failed" and "cancelled" in task.error_message


def test_a_delete_after_the_builds_first_read_cancels_it_at_the_claim(
    build, hva, add_host, add_instance, get_row, usage, monkeypatch
):
    # The build reads its instance with the task's head, before it takes
    # the task: a delete landing after that read (committed by the API,
    # another transaction) fails the claim's CAS. The read here sees the
    # delete already, and is made to answer what it saw just before.
    add_host("hv1")
    iid, tid = add_instance()
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == iid)
            .values(status="shuttingdown")
        )
    read = BuildFlow.read_head

    def read_then_deleted(self, s):
        head = read(self, s)
        assert self._read_with_head.status == "shuttingdown"
        self._read_with_head = self._read_with_head._replace(status="pending")
        return head

    monkeypatch.setattr(BuildFlow, "read_head", read_then_deleted)
    build(iid, tid)
    assert hva.calls == []
    assert usage() == (0, 0, 0, 0)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.claimed) == ("shuttingdown", False)
    task = get_row(models.Task, tid)
    assert task.status == "failed" and "cancelled" in task.error_message


def test_a_task_already_ended_is_not_run(
    build, hva, add_host, add_instance, get_row, usage
):
    add_host("hv1")
    iid, tid = add_instance()
    with engine.session() as s:
        task_records.fail(s, tid, "queued", "reaped")
    build(iid, tid)
    assert hva.calls == []
    assert get_row(models.Instance, iid).status == "pending"
    assert get_row(models.Task, tid).error_message == "reaped"
    # The schedule step ran before the take: the take's failure took its
    # claim back with it.
    assert usage() == (0, 0, 0, 0)


def test_a_build_whose_task_another_scheduler_took_keeps_no_claim(
    ctxt, hva, add_host, add_instance, get_row, usage
):
    # The same task cast twice (the sweep's cast of a task it thought
    # lost, and the first): the second scheduler places the instance in
    # the transaction that takes the task, and its take fails; nothing of
    # its placement stays, and the task stays the first one's.
    add_host("hv1")
    iid, tid = add_instance()
    first = Leases()
    with engine.session() as s:
        assert first.take(s, tid)
    flow = BuildFlow(ctxt, tid, iid, HostSelector(), hva)
    flow.leases = Leases()
    assert flow.begin() is False
    assert usage() == (0, 0, 0, 0)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host, inst.claimed) == ("pending", None, False)
    task = get_row(models.Task, tid)
    assert (task.status, task.owner, task.step) == (
        "running",
        first.owner,
        None,
    )
    assert task.events == []
    assert flow.leases.held() == []


def test_build_past_its_deadline_does_not_call_the_agent(
    build, hva, add_host, add_instance, get_row, usage
):
    add_host("hv1")
    iid, tid = add_instance(timeout_s=0)
    build(iid, tid)
    assert hva.calls == []
    task = get_row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "spawn")
    assert task.error_message == "task deadline passed"
    assert get_row(models.Instance, iid).status == "error"
    assert usage() == (0, 0, 0, 0)


def test_task_shows_the_running_step_while_the_agent_works(
    build, hva, add_host, add_instance, get_row
):
    add_host("hv1")
    iid, tid = add_instance()
    seen = []
    hva.hooks["spawn"] = lambda i: seen.append(
        (
            get_row(models.Task, tid).status,
            get_row(models.Task, tid).step,
            get_row(models.Instance, iid).status,
        )
    )
    build(iid, tid)
    assert seen == [("running", "spawn", "starting")]


class _Died(BaseException):
    """The scheduler process dying (not an Exception: nothing handles it)."""


def test_a_scheduler_dying_between_claim_and_its_commit_leaves_no_claim(
    build, ctxt, hva, add_host, add_instance, get_row, usage, monkeypatch
):
    # The task's take, the claim with the move to `starting`, and the
    # step's record are one transaction: a death before its commit (here,
    # writing the record, after the claim's statements) leaves the task
    # queued, the instance pending and the host's capacity untouched; the
    # cast again (the sweep's, for a queued task nobody took) places it
    # once.
    add_host("hv1")
    iid, tid = add_instance()
    flow = BuildFlow(ctxt, tid, iid, HostSelector(), hva)

    def die(self, s, **kw):
        assert (
            s.execute(
                sa.select(models.Instance.status).where(
                    models.Instance.id == iid
                )
            ).scalar()
            == "starting"
        )
        raise _Died()

    monkeypatch.setattr(BuildFlow, "flush", die)
    with pytest.raises(_Died):
        flow.run()
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host, inst.claimed) == ("pending", None, False)
    assert usage() == (0, 0, 0, 0)
    assert hva.calls == []
    task = get_row(models.Task, tid)
    assert (task.status, task.owner, task.step) == ("queued", None, None)
    monkeypatch.undo()
    build(iid, tid)
    assert get_row(models.Instance, iid).status == "running"
    assert usage() == (1, 512, 5, 1)
