"""Start, stop, reboot: one agent call each, then the final state."""

import pytest

from arame.common.db import models
from arame.scheduler.flows.actions import ActionFlow


@pytest.fixture
def act(ctxt, hva, sched_conf):
    def run(instance_id, task_id, action):
        ActionFlow(ctxt, task_id, instance_id, action, hva).run()

    return run


@pytest.mark.parametrize(
    "action,busy,method,final,power",
    [
        ("stop", "stopping", "power_off", "stopped", "shutdown"),
        ("start", "starting", "power_on", "running", "running"),
        ("reboot", "rebooting", "reboot", "running", "running"),
    ],
)
def test_action_calls_the_agent_and_lands_the_final_state(
    act,
    hva,
    add_host,
    add_instance,
    get_row,
    action,
    busy,
    method,
    final,
    power,
):
    add_host("hv1")
    iid, tid = add_instance(
        status=busy, host="hv1", claimed=True, action=action
    )
    act(iid, tid, action)

    assert hva.calls == [(method, "hv1", iid)]
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.power_state) == (final, power)
    task = get_row(models.Task, tid)
    assert task.status == "done"
    assert [(e.step, e.status, e.host) for e in task.events] == [
        (method, "done", "hv1")
    ]


def test_failed_action_fails_the_task_with_the_step(
    act, hva, add_host, add_instance, get_row
):
    add_host("hv1")
    iid, tid = add_instance(
        status="stopping", host="hv1", claimed=True, action="stop"
    )
    hva.fail["power_off"] = RuntimeError("guest agent hung")
    act(iid, tid, "stop")

    task = get_row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "power_off")
    assert "guest agent hung" in task.error_message
    inst = get_row(models.Instance, iid)
    assert inst.status != "stopping"  # never left in a busy state
    assert "stop failed at power_off" in inst.status_reason


def test_delete_during_an_action_wins(
    act, hva, add_host, add_instance, get_row, behind_the_back
):
    add_host("hv1")
    iid, tid = add_instance(
        status="stopping", host="hv1", claimed=True, action="stop"
    )
    hva.hooks["power_off"] = lambda i: behind_the_back(i, "shuttingdown")
    act(iid, tid, "stop")

    assert get_row(models.Instance, iid).status == "shuttingdown"
    task = get_row(models.Task, tid)
    assert task.status == "failed" and "cancelled" in task.error_message


def test_action_past_its_deadline_does_not_call_the_agent(
    act, hva, add_host, add_instance, get_row
):
    add_host("hv1")
    iid, tid = add_instance(
        status="rebooting",
        host="hv1",
        claimed=True,
        action="reboot",
        timeout_s=0,
    )
    act(iid, tid, "reboot")
    assert hva.calls == []
    task = get_row(models.Task, tid)
    assert task.error_message == "task deadline passed"
    assert get_row(models.Instance, iid).status == "error"
