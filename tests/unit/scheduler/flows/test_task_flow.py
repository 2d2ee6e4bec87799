"""The task-flow base: steps recorded in order with host and duration, a
failure undoes what was begun newest first, the task ends in one place."""

import oslo_messaging as messaging
import pytest

from arame.common import tasks
from arame.common.db import engine, models
from arame.scheduler.flows.base import StepFailed, TaskFlow
from arame.scheduler.flows.security_groups import RefreshSecurityGroupFlow


class Steps(TaskFlow):
    """Three agent calls on hosts a, b, c, each with its undo; `fail`
    names the call that raises, `undo_fails` the undo that does."""

    action, kind = "test", "widget"

    def __init__(self, ctxt, task_id, fail=None, undo_fails=None):
        super().__init__(ctxt, task_id, "wid-1")
        self.fail_at, self.undo_fails = fail, undo_fails
        self.done: list[str] = []

    def call(self, what):
        self.done.append(what)
        if what in (self.fail_at, self.undo_fails):
            raise messaging.RemoteError("Refused", f"{what} refused")

    def run(self):
        if not self.begin():
            return
        try:
            for name, host in (("one", "a"), ("two", "b"), ("three", "c")):
                with self.step(
                    name, host=host, undo=lambda n=name: self.call(f"undo-{n}")
                ):
                    self.checkpoint()
                    self.call(name)
        except StepFailed as e:
            self.undo_steps()
            self.fail(e.step, e.message)
            return
        with engine.session() as s:
            self.finish(s)


@pytest.fixture
def task(cloud):
    with engine.session() as s:
        return tasks.create(
            s,
            account_id="a-admin",
            resource_id="wid-1",
            resource_type="widget",
            action="test",
            timeout_s=600,
        ).id


def task_of(tid):
    with engine.session() as s:
        return tasks.to_dict(s.get(models.Task, tid))


def steps(t):
    return [(e["step"], e["status"], e["host"]) for e in t["events"]]


def test_steps_are_recorded_in_order_and_the_task_ends_once(
    ctxt, task, task_ends
):
    Steps(ctxt, task).run()

    t = task_of(task)
    assert t["status"] == "done"
    assert steps(t) == [
        ("one", "done", "a"),
        ("two", "done", "b"),
        ("three", "done", "c"),
    ]
    assert all(e["duration_ms"] >= 0 for e in t["events"])
    assert t["step"] == "three"
    assert task_ends == [(task, "done", None, None)]


def test_a_failed_step_undoes_what_was_begun_newest_first(
    ctxt, task, task_ends
):
    flow = Steps(ctxt, task, fail="three")
    flow.run()

    # The failed call may have happened (a timeout): it is undone too.
    assert flow.done == [
        "one",
        "two",
        "three",
        "undo-three",
        "undo-two",
        "undo-one",
    ]
    t = task_of(task)
    assert steps(t) == [
        ("one", "done", "a"),
        ("two", "done", "b"),
        ("three", "failed", "c"),
        ("undo-three", "done", "c"),
        ("undo-two", "done", "b"),
        ("undo-one", "done", "a"),
    ]
    assert t["status"] == "failed"
    assert t["error"] == {"step": "three", "message": "Refused: three refused"}
    assert [e[1:] for e in task_ends] == [
        ("failed", "three", "Refused: three refused")
    ]


def test_an_undo_that_fails_stops_the_undoing(ctxt, task):
    flow = Steps(ctxt, task, fail="three", undo_fails="undo-two")
    flow.run()

    # What "one" made stays for a DELETE to remove: its undo is not tried
    # after the one that failed.
    assert flow.done[-2:] == ["undo-three", "undo-two"]
    assert steps(task_of(task))[-2:] == [
        ("undo-three", "done", "c"),
        ("undo-two", "failed", "b"),
    ]
    assert task_of(task)["error"]["step"] == "three"


def test_a_task_the_reaper_ended_does_not_run(ctxt, task, task_ends):
    with engine.session() as s:
        tasks.fail(s, task, "queued", "deadline passed")
    flow = Steps(ctxt, task)
    flow.run()

    assert flow.done == []
    assert task_ends == []


def test_a_group_refresh_is_a_task_flow_on_the_group(ctxt, cloud, task_ends):
    with engine.session() as s:
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id="sg-none",
            resource_type="security_group",
            action="update",
            timeout_s=600,
        ).id
    RefreshSecurityGroupFlow(ctxt, tid, "sg-none", hva=None).run()

    t = task_of(tid)
    assert t["status"] == "done"
    assert [(e["step"], e["status"], e["message"]) for e in t["events"]] == [
        ("apply", "done", "no member on any host")
    ]
    assert task_ends == [(tid, "done", None, None)]
