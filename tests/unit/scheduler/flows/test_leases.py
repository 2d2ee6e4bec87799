"""Tasks outlive the scheduler running them: leases, the sweep that adopts
a task whose lease lapsed (or whose cast was lost), and the resumed flow."""

import datetime as dt

import pytest
import sqlalchemy as sa

from arame.common.db import engine, models
from arame.scheduler import leases as leases_mod
from arame.scheduler.manager import SchedulerManager
from arame.scheduler.selector import HostSelector
from arame.scheduler.sweeper import Sweeper


class Died(BaseException):
    """The scheduler process dies here (nothing in it catches this)."""


@pytest.fixture
def scheduler(hva, sched_conf):
    """A scheduler process: its manager and its sweep (not started)."""

    def make():
        m = SchedulerManager(
            selector=HostSelector(), hva=hva, nsa=None, sta=None, bma=None
        )
        m.sta = None  # no storage nodes in these tests
        m.nsa = None
        return m, Sweeper(m, workers=1)

    return make


def task_row(tid):
    with engine.session() as s:
        t = s.get(models.Task, tid)
        s.expunge(t)
        return t


def lapse(tid):
    with engine.session() as s:
        s.execute(
            sa.update(models.Task)
            .where(models.Task.id == tid)
            .values(lease_until=models.utcnow() - dt.timedelta(seconds=1))
        )


def run_found(sweeper):
    """The sweep's work, on this thread."""
    found = sweeper.find()
    for task, adopted in found:
        sweeper._resume(task, adopted)
    return found


def test_a_build_whose_scheduler_dies_at_spawn_is_resumed_by_another(
    scheduler, hva, add_host, add_instance, ctxt, get_row, usage
):
    add_host("hv1")
    iid, tid = add_instance()
    first, _ = scheduler()

    def die(_id):
        raise Died()

    hva.hooks["spawn"] = die
    with pytest.raises(Died):
        first.build_instance(ctxt, tid, iid)
    t = task_row(tid)
    assert (t.status, t.step, t.owner) == (
        "running",
        "spawn",
        first.leases.owner,
    )
    assert first.leases.held() == []  # no longer renewed: it lapses

    hva.hooks.clear()
    second, sweep = scheduler()
    assert run_found(sweep) == []  # the lease still runs
    lapse(tid)
    assert [(t.id, a) for t, a in run_found(sweep)] == [(tid, True)]

    t = get_row(models.Task, tid)
    assert (t.status, t.owner, t.attempts) == (
        "done",
        second.leases.owner,
        2,
    )
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host, inst.claimed) == ("running", "hv1", True)
    # Placed once: one claim, and the spawn asked again of the same host.
    assert usage() == (1, 512, 5, 1)
    assert hva.calls == [("spawn", "hv1", iid), ("spawn", "hv1", iid)]


def test_a_build_adopted_before_its_placement_places_it_once(
    scheduler, hva, add_host, add_instance, get_row, usage
):
    # A scheduler of a release that took its task in a transaction of its
    # own died before placing the instance (the take and the placement
    # now commit together): the adopter places it, once.
    add_host("hv1")
    iid, tid = add_instance()
    with engine.session() as s:
        assert leases_mod.Leases().take(s, tid)
    lapse(tid)
    second, sweep = scheduler()
    assert [(t.id, a) for t, a in run_found(sweep)] == [(tid, True)]
    t = get_row(models.Task, tid)
    assert (t.status, t.owner, t.attempts) == ("done", second.leases.owner, 2)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host, inst.claimed) == ("running", "hv1", True)
    assert usage() == (1, 512, 5, 1)
    assert hva.calls == [("spawn", "hv1", iid)]


def test_a_resumed_build_of_an_instance_deleted_meanwhile_is_undone(
    scheduler, hva, add_host, add_instance, ctxt, get_row, usage
):
    add_host("hv1")
    iid, tid = add_instance()
    first, _ = scheduler()
    hva.hooks["spawn"] = lambda _id: (_ for _ in ()).throw(Died())
    with pytest.raises(Died):
        first.build_instance(ctxt, tid, iid)
    hva.hooks.clear()
    with engine.session() as s:  # DELETE arrived while nobody ran it
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == iid)
            .values(status="shuttingdown")
        )
    lapse(tid)
    _, sweep = scheduler()
    run_found(sweep)
    t = get_row(models.Task, tid)
    assert t.status == "failed" and "deleted during the build" in (
        t.error_message
    )
    assert ("destroy", "hv1", iid) in hva.calls
    assert usage() == (0, 0, 0, 0)


def test_a_cast_no_scheduler_took_is_run_by_the_sweep(
    scheduler, add_host, add_instance, get_row, config
):
    add_host("hv1")
    iid, tid = add_instance()
    _, sweep = scheduler()
    assert run_found(sweep) == []  # queued only a moment: its cast is due
    with engine.session() as s:
        s.execute(
            sa.update(models.Task)
            .where(models.Task.id == tid)
            .values(created_at=models.utcnow() - dt.timedelta(minutes=1))
        )
    assert [(t.id, a) for t, a in run_found(sweep)] == [(tid, False)]
    assert get_row(models.Task, tid).status == "done"
    assert get_row(models.Instance, iid).status == "running"


def test_a_late_cast_of_a_task_already_taken_does_nothing(
    scheduler, hva, add_host, add_instance, ctxt, get_row
):
    add_host("hv1")
    iid, tid = add_instance()
    one, _ = scheduler()
    two, _ = scheduler()
    one.build_instance(ctxt, tid, iid)
    two.build_instance(ctxt, tid, iid)
    assert hva.methods() == ["spawn"]
    assert get_row(models.Task, tid).owner == one.leases.owner


def test_a_scheduler_that_lost_its_lease_stops_without_touching_the_task(
    scheduler, hva, add_host, add_instance, ctxt, get_row, usage
):
    # Paused past its lease (not dead): another adopted the task; the first
    # then wakes up in spawn. Its end is fenced off.
    add_host("hv1")
    iid, tid = add_instance()
    first, _ = scheduler()
    other = leases_mod.Leases()

    def adopted_meanwhile(_id):
        lapse(tid)
        with engine.session() as s:
            assert other.adopt(s, tid, models.utcnow())

    hva.hooks["spawn"] = adopted_meanwhile
    first.build_instance(ctxt, tid, iid)
    t = get_row(models.Task, tid)
    assert (t.status, t.owner) == ("running", other.owner)
    assert get_row(models.Instance, iid).status == "starting"
    assert usage() == (1, 512, 5, 1)


def test_leases_are_renewed_in_one_statement(
    scheduler, add_host, add_instance, get_row
):
    m, sweep = scheduler()
    ids = []
    for _ in range(3):
        _, tid = add_instance()
        with engine.session() as s:
            assert m.leases.take(s, tid)
        m.leases.hold(tid)
        lapse(tid)
        ids.append(tid)
    statements = []

    def count(conn, cursor, stmt, *a):
        statements.append(stmt)

    sa.event.listen(engine.get_engine(), "before_cursor_execute", count)
    try:
        sweep.renew()
    finally:
        sa.event.remove(engine.get_engine(), "before_cursor_execute", count)
    assert len([s for s in statements if s.startswith("UPDATE")]) == 1
    now = models.utcnow()
    assert all(get_row(models.Task, t).lease_until > now for t in ids)


def test_a_task_that_keeps_killing_its_schedulers_fails(
    scheduler, add_instance, get_row, config
):
    config("task_max_attempts", 2, group="scheduler")
    _, tid = add_instance()
    with engine.session() as s:
        s.execute(
            sa.update(models.Task)
            .where(models.Task.id == tid)
            .values(status="running", attempts=2, step="spawn")
        )
    lapse(tid)
    _, sweep = scheduler()
    assert run_found(sweep) == []
    t = get_row(models.Task, tid)
    assert t.status == "failed" and "stopped 2 times" in t.error_message


def test_a_tasks_end_is_fenced_in_the_statement_that_ends_it(
    add_host, add_instance, get_row
):
    mine, other = leases_mod.Leases(), leases_mod.Leases()
    ids = []
    for _ in range(3):
        _, tid = add_instance()
        with engine.session() as s:
            assert mine.take(s, tid)
        mine.hold(tid)
        ids.append(tid)
    ours, reaped, adopted = ids
    with engine.session() as s:
        assert mine.end(s, ours, "done", step="spawn")
    t = get_row(models.Task, ours)
    assert (t.status, t.step) == ("done", "spawn")
    # Ended by the reaper first: no second end, no error.
    with engine.session() as s:
        s.execute(
            sa.update(models.Task)
            .where(models.Task.id == reaped)
            .values(status="failed", error_step="reaper")
        )
    with engine.session() as s:
        assert not mine.end(s, reaped, "done")
    assert get_row(models.Task, reaped).error_step == "reaper"
    # Adopted by another scheduler: LeaseLost, the task untouched, and
    # no longer renewed by us.
    lapse(adopted)
    with engine.session() as s:
        assert other.adopt(s, adopted, models.utcnow())
    with pytest.raises(leases_mod.LeaseLost):
        with engine.session() as s:
            mine.end(s, adopted, "failed", error_step="x")
    t = get_row(models.Task, adopted)
    assert (t.status, t.owner) == ("running", other.owner)
    assert adopted not in mine.held()
