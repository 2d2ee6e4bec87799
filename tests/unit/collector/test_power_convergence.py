"""The record follows what the host reports, in every state: an instance a
caller-side deadline left in `error` converges to what its guest does;
one a flow owns is the flow's, and a terminated one stays terminated."""

import pytest
import sqlalchemy as sa

from arame.collector import observations
from arame.collector.manager import CollectorManager
from arame.common import tasks
from arame.common.db import engine, models

STOP_TIMED_OUT = "stop failed at power_off: no answer from vm"


def report(iid, state, event="drift", host="hv1"):
    """What hva's power sync sends when the guest differs from the record."""
    with engine.session() as s:
        observations.record_power_state(
            s,
            {
                "instance_id": iid,
                "host": host,
                "power_state": state,
                "reason": f"power-state sync: {host} reports {state}",
                "event": event,
            },
        )


def set_task(tid, status):
    with engine.session() as s:
        if status == "failed":
            tasks.fail(s, tid, "power_off", STOP_TIMED_OUT)
        else:
            if status == "done":
                tasks.set_status(s, tid, "running")
            tasks.set_status(s, tid, status)


def set_instance(iid, **values):
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == iid)
            .values(**values)
        )


@pytest.fixture
def errored(add_instance):
    """The instance of the issue: a stop that timed out at the scheduler
    (its task failed) left it in error with power_state running."""

    def make(power_state="running"):
        iid, tid = add_instance(
            status="error", host="hv1", claimed=True, action="stop"
        )
        set_task(tid, "failed")
        set_instance(
            iid, power_state=power_state, status_reason=STOP_TIMED_OUT
        )
        return iid

    return make


def row(get_row, iid):
    inst = get_row(models.Instance, iid)
    return inst.status, inst.power_state, inst.status_reason


def test_error_instance_whose_guest_was_shut_off_is_stopped(
    errored, get_row, caplog
):
    iid = errored()
    report(iid, "shutdown")
    assert row(get_row, iid) == ("stopped", "shutdown", None)
    assert f"instance {iid}: error -> stopped" in caplog.text


def test_error_instance_whose_guest_runs_is_running(errored, get_row):
    iid = errored(power_state="shutdown")
    report(iid, "running")
    assert row(get_row, iid) == ("running", "running", None)


def test_error_instance_with_a_crashed_guest_keeps_error(errored, get_row):
    # Crashed is not shut off: which of the two it ends as is not ours to
    # guess; the power state follows all the same.
    iid = errored()
    report(iid, "crashed")
    assert row(get_row, iid) == ("error", "crashed", STOP_TIMED_OUT)


def test_error_instance_whose_guest_is_missing_records_no_guest(
    errored, get_row
):
    iid = errored()
    report(iid, "nostate", event="missing")
    assert row(get_row, iid) == ("error", "nostate", STOP_TIMED_OUT)


def test_a_paused_guest_changes_only_the_power_state(errored, get_row):
    iid = errored()
    report(iid, "paused")
    assert row(get_row, iid) == ("error", "paused", STOP_TIMED_OUT)


@pytest.mark.parametrize("task_status", ["queued", "running"])
def test_an_instance_a_flow_owns_is_not_touched(
    add_instance, get_row, task_status
):
    iid, tid = add_instance(
        status="stopping", host="hv1", claimed=True, action="stop"
    )
    set_instance(iid, power_state="running")
    if task_status == "running":
        set_task(tid, "running")
    report(iid, "shutdown")
    assert row(get_row, iid) == ("stopping", "running", None)


def test_an_error_instance_under_a_task_of_unknown_kind_is_not_touched(
    errored, add_instance, get_row
):
    iid = errored()
    with engine.session() as s:
        tasks.create(
            s,
            account_id="a-admin",
            resource_id=iid,
            resource_type="instance",
            action="rescue",
            timeout_s=60,
        )
    report(iid, "shutdown")
    assert row(get_row, iid) == ("error", "running", STOP_TIMED_OUT)


def test_a_terminated_instance_is_never_brought_back(add_instance, get_row):
    iid, tid = add_instance(status="terminated", host="hv1", action="delete")
    set_task(tid, "done")
    report(iid, "running")
    assert row(get_row, iid) == ("terminated", None, None)


def test_a_delete_accepted_meanwhile_wins(errored, get_row, monkeypatch):
    """The API moved it to shuttingdown between our read and our write:
    the compare-and-set on the status loses, nothing is written."""
    iid = errored()
    real = observations.ownership.is_owned

    def delete_meanwhile(session, instance_id):
        owned = real(session, instance_id)
        session.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == instance_id)
            .values(status="shuttingdown")
            # As another transaction would: our copy is not told.
            .execution_options(synchronize_session=False)
        )
        return owned

    monkeypatch.setattr(observations.ownership, "is_owned", delete_meanwhile)
    report(iid, "shutdown")
    assert row(get_row, iid)[:2] == ("shuttingdown", "running")


def test_the_agent_is_told_which_instances_to_compare(errored, add_instance):
    idle_error = errored()
    busy, tid = add_instance(
        status="stopping", host="hv1", claimed=True, action="stop"
    )
    set_task(tid, "running")
    got = CollectorManager().expected_instances({}, "hv1")["instances"]
    assert got[idle_error]["compare"] is True
    assert got[busy]["compare"] is False
