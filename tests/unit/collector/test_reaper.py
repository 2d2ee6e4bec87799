"""The reaper: a task past its deadline ends failed, its instance in error."""

import datetime as dt

import pytest

from arame.collector import reaper
from arame.common import tasks
from arame.common.context import admin_context
from arame.common.db import engine, models


@pytest.fixture
def no_grace(config):
    config("grace_period", 0, group="collector")
    return config


def later(seconds=1):
    return models.utcnow() + dt.timedelta(seconds=seconds)


def start(task_id, step):
    """What a flow leaves on its task while a step runs."""
    with engine.session() as s:
        tasks.set_status(s, task_id, "running", step=step)


def test_overdue_task_fails_at_its_step_and_instance_goes_to_error(
    no_grace, add_instance, get_row
):
    iid, tid = add_instance(
        status="starting", host="hv1", claimed=True, timeout_s=0
    )
    start(tid, "spawn")
    assert reaper.reap(later()) == 1

    task = get_row(models.Task, tid)
    assert task.status == "failed"
    assert task.error_step == "spawn"
    assert "deadline passed" in task.error_message
    assert "during spawn" in task.error_message
    inst = get_row(models.Instance, iid)
    assert inst.status == "error"
    assert inst.status_reason.startswith("create: deadline passed")


def test_task_that_never_started_fails_as_queued(
    no_grace, add_instance, get_row
):
    iid, tid = add_instance(timeout_s=0)  # the cast was lost
    reaper.reap(later())
    task = get_row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "queued")
    assert "before it started" in task.error_message
    assert get_row(models.Instance, iid).status == "error"


@pytest.mark.parametrize(
    "action,busy",
    [
        ("delete", "shuttingdown"),
        ("stop", "stopping"),
        ("start", "starting"),
        ("reboot", "rebooting"),
        ("create", "scheduling"),
        ("create", "pending"),
    ],
)
def test_every_transitional_state_is_reaped(
    no_grace, add_instance, get_row, action, busy
):
    iid, tid = add_instance(status=busy, action=action, timeout_s=0)
    reaper.reap(later())
    assert get_row(models.Instance, iid).status == "error"
    assert get_row(models.Instance, iid).status_reason.startswith(action)


def test_an_instance_that_reached_a_resting_state_is_left_alone(
    no_grace, add_instance, get_row
):
    # The task is overdue but the instance already got where it was going
    # (the flow died after its last write): only the task is ended.
    iid, tid = add_instance(status="running", timeout_s=0)
    reaper.reap(later())
    assert get_row(models.Task, tid).status == "failed"
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.status_reason) == ("running", None)


def test_done_task_is_untouched(no_grace, add_instance, get_row):
    iid, tid = add_instance(status="running", timeout_s=0)
    with engine.session() as s:
        tasks.set_status(s, tid, "running")
        tasks.set_status(s, tid, "done")
    assert reaper.reap(later()) == 0
    task = get_row(models.Task, tid)
    assert task.status == "done" and task.error_message is None


def test_failed_task_is_untouched(no_grace, add_instance, get_row):
    iid, tid = add_instance(status="error", timeout_s=0)
    with engine.session() as s:
        tasks.fail(s, tid, "spawn", "original reason")
    assert reaper.reap(later()) == 0
    assert get_row(models.Task, tid).error_message == "original reason"


def test_task_within_its_deadline_is_untouched(
    no_grace, add_instance, get_row
):
    iid, tid = add_instance(timeout_s=600)
    assert reaper.reap() == 0
    assert get_row(models.Task, tid).status == "queued"
    assert get_row(models.Instance, iid).status == "pending"


def test_grace_period_gives_the_flow_time_to_fail_on_its_own(
    config, add_instance, get_row
):
    config("grace_period", 30, group="collector")
    iid, tid = add_instance(timeout_s=0)
    assert reaper.reap(later(10)) == 0
    assert get_row(models.Task, tid).status == "queued"
    assert reaper.reap(later(40)) == 1
    assert get_row(models.Task, tid).status == "failed"


def test_reaping_twice_changes_nothing_more(no_grace, add_instance, get_row):
    iid, tid = add_instance(timeout_s=0)
    reaper.reap(later())
    first = get_row(models.Task, tid)
    assert reaper.reap(later(5)) == 0
    again = get_row(models.Task, tid)
    assert (again.error_step, again.error_message) == (
        first.error_step,
        first.error_message,
    )


def test_reaper_names_the_step_a_running_build_is_stuck_in(
    no_grace, add_host, add_instance, get_row, config
):
    from arame.scheduler.flows.build import BuildFlow
    from arame.scheduler.selector import HostSelector

    config("host_subset_size", 1, group="scheduler")
    config("service_down_time", 60)
    add_host("hv1")
    iid, tid = add_instance()

    class StuckHVA:
        """The agent hangs past the task's deadline; the reaper runs."""

        def spawn(self, ctxt, host, instance, timeout):
            reaper.reap(later(3600))
            return {"power_state": "running"}

        def destroy(self, ctxt, host, instance_id, timeout):
            return {}

    BuildFlow(admin_context(), tid, iid, HostSelector(), StuckHVA()).run()
    task = get_row(models.Task, tid)
    assert task.status == "failed"
    assert task.error_step == "spawn"
    assert "during spawn" in task.error_message


def test_a_volume_whose_task_is_reaped_leaves_creating_for_error(
    no_grace, cloud, get_row
):
    now = models.utcnow()
    with engine.session() as s:
        s.add(
            models.Volume(
                id="vol-reaped01",
                name="v",
                account_id="a-admin",
                size_gb=1,
                status="creating",
                created_at=now,
                updated_at=now,
            )
        )
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id="vol-reaped01",
            resource_type="volume",
            action="create",
            timeout_s=0,
        ).id
    start(tid, "create")
    assert reaper.reap(later()) == 1
    vol = get_row(models.Volume, "vol-reaped01")
    assert vol.status == "error"
    assert vol.status_reason.startswith("create: deadline passed")
