"""Two reports of one guest's stop (its host's event, which knows the cause,
and the power sync's comparison) may reach the collector in either order:
the record ends with the event's reason either way."""

import pytest

from arame.collector import observations
from arame.common.db import engine, models

HA_OFF = "the emulator died; HA is off"
SYNC = "power-state sync: hv1 reports shutdown, the record said running"


def event(iid, event_id="e1"):
    return {
        "instance_id": iid,
        "host": "hv1",
        "power_state": "crashed",
        "reason": HA_OFF,
        "event": "crashed",
        "event_id": event_id,
    }


def drift(iid):
    return {
        "instance_id": iid,
        "host": "hv1",
        "power_state": "shutdown",
        "reason": SYNC,
        "event": "drift",
        "event_id": "d1",
    }


def record(payload):
    with engine.session() as s:
        observations.record_power_state(s, payload)


@pytest.mark.parametrize("sync_first", [False, True], ids=["event", "sync"])
def test_a_stop_keeps_its_events_reason_whichever_report_came_first(
    add_instance, get_row, sync_first
):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    reports = [event(iid), drift(iid)]
    for payload in reversed(reports) if sync_first else reports:
        record(payload)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.status_reason) == ("stopped", HA_OFF)


def test_an_event_delivered_again_leaves_a_later_reason(
    add_instance, get_row, behind_the_back
):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    record(event(iid))
    # Started and stopped again since, this time seen by the sync only.
    behind_the_back(iid, "stopped", status_reason=SYNC)
    record(event(iid))
    assert get_row(models.Instance, iid).status_reason == SYNC


def test_an_event_does_not_replace_a_reason_the_sync_did_not_give(
    add_instance, get_row, behind_the_back
):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    behind_the_back(iid, "stopped", status_reason="stopped by its owner")
    record(event(iid))
    assert get_row(models.Instance, iid).status_reason == (
        "stopped by its owner"
    )
