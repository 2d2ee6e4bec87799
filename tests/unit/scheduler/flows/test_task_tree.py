"""A parent task over nodes' tasks (common/task_tree.py) in the scheduler:
the last child's flow ends it; a parent is never run or adopted as a flow;
and when the process that ended a child dies before settling, the sweep
ends the parent."""

import datetime as dt

import pytest
import sqlalchemy as sa

from arame.common import task_tree
from arame.common.db import engine, models
from arame.scheduler.manager import SchedulerManager
from arame.scheduler.selector import HostSelector
from arame.scheduler.sweeper import Sweeper


@pytest.fixture
def sweep(hva, sched_conf):
    m = SchedulerManager(
        selector=HostSelector(), hva=hva, nsa=None, sta=None, bma=None
    )
    m.sta = m.nsa = None
    return m, Sweeper(m, workers=1)


def parent_of(task_ids, age_s=0):
    with engine.session() as s:
        parent = task_tree.create_parent(
            s,
            account_id="a-admin",
            resource_id="un-aaaaaaaa",
            resource_type="unit",
            action="create",
            timeout_s=600,
            request_id=None,
        )
        parent.created_at = models.utcnow() - dt.timedelta(seconds=age_s)
        kids = s.scalars(
            sa.select(models.Task).where(models.Task.id.in_(task_ids))
        ).all()
        task_tree.adopt(parent, kids)
    return parent.id


def test_the_last_node_to_build_ends_the_parent(
    sweep, add_host, add_instance, ctxt, get_row
):
    manager, _ = sweep
    add_host("hv1")
    (i1, t1), (i2, t2) = add_instance(name="n-1"), add_instance(name="n-2")
    pid = parent_of([t1, t2])
    manager.build_instance(ctxt, t1, i1)
    assert get_row(models.Task, pid).status == "running"
    manager.build_instance(ctxt, t2, i2)
    parent = get_row(models.Task, pid)
    assert parent.status == "done"
    with engine.session() as s:
        steps = [
            (e.step.split()[0], e.status, e.host)
            for e in s.get(models.Task, pid).events
        ]
    assert steps == [("node", "done", "hv1"), ("node", "done", "hv1")]


def test_a_parent_is_neither_a_lost_cast_nor_a_lapsed_lease(
    sweep, add_host, add_instance
):
    _, sweeper = sweep
    add_host("hv1")
    _, tid = add_instance()
    pid = parent_of([tid], age_s=3600)
    found = [t.id for t, _ in sweeper.find()]
    assert pid not in found


def test_the_sweep_ends_a_parent_nobody_settled(
    sweep, add_host, add_instance, ctxt, get_row, monkeypatch
):
    manager, sweeper = sweep
    add_host("hv1")
    iid, tid = add_instance()
    pid = parent_of([tid])
    # The scheduler dies right after the child's end commits.
    monkeypatch.setattr(task_tree, "settle_soon", lambda _pid: None)
    manager.build_instance(ctxt, tid, iid)
    assert get_row(models.Task, tid).status == "done"
    assert get_row(models.Task, pid).status == "running"
    sweeper.settle_parents()
    assert get_row(models.Task, pid).status == "done"
    # Settling again adds nothing: one event per node.
    assert task_tree.settle(pid) is False
    with engine.session() as s:
        assert len(s.get(models.Task, pid).events) == 1


def test_a_failed_node_fails_the_parent_naming_it(
    sweep, hva, add_host, add_instance, ctxt, get_row
):
    manager, _ = sweep
    add_host("hv1")
    (i1, t1), (i2, t2) = add_instance(name="n-1"), add_instance(name="n-2")
    pid = parent_of([t1, t2])
    manager.build_instance(ctxt, t1, i1)
    hva.fail["spawn"] = RuntimeError("disk full")
    manager.build_instance(ctxt, t2, i2)
    parent = get_row(models.Task, pid)
    assert parent.status == "failed"
    assert parent.error_message.startswith("1 of 2 nodes failed")
    assert "disk full" in parent.error_message


def test_nodes_whose_casts_the_api_never_sent_are_built_by_the_sweep(
    sweep, add_host, add_instance, get_row, config
):
    # The API committed the unit's records and died before its casts.
    _, sweeper = sweep
    add_host("hv1")
    (i1, t1), (_, t2) = add_instance(name="n-1"), add_instance(name="n-2")
    pid = parent_of([t1, t2])
    with engine.session() as s:
        s.execute(
            sa.update(models.Task)
            .where(models.Task.id.in_([t1, t2]))
            .values(created_at=models.utcnow() - dt.timedelta(minutes=1))
        )
    found = sweeper.find()
    assert sorted(t.id for t, _ in found) == sorted([t1, t2])
    for task, adopted in found:
        sweeper._resume(task, adopted)
    assert get_row(models.Task, pid).status == "done"
    assert get_row(models.Instance, i1).status == "running"
