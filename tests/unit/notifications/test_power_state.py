"""The collector announces each power state it records, once, with what
it knew before; a report it does not record is not announced."""

import json

import jsonschema
import pytest

from arame.collector import observations
from arame.common.db import engine
from arame.notifications import payloads, publisher

SCHEMA = json.loads((payloads.SCHEMAS / "power_state.json").read_text())


@pytest.fixture
def sent(config, monkeypatch):
    config("enabled", True, group="notifications")
    out = []

    class Recorder:
        def info(self, ctxt, event, payload):
            out.append((event, payload))

    monkeypatch.setattr(publisher, "get_notifier", Recorder)
    return out


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


def test_a_crash_is_announced_with_the_status_it_left(add_instance, sent):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    power(iid, "running")
    power(iid, "crashed")

    assert [e for e, _ in sent] == ["instance.power_state.update"] * 2
    payload = sent[-1][1]
    jsonschema.validate(payload, SCHEMA)
    assert payload["instance_id"] == iid
    assert payload["account_id"]
    assert (
        payload["previous_power_state"],
        payload["power_state"],
        payload["status"],
        payload["reason"],
        payload["host"],
    ) == ("running", "crashed", "stopped", "guest died", "hv1")


def test_the_same_power_state_again_is_not_announced(add_instance, sent):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    power(iid, "running")
    power(iid, "running")
    assert len(sent) == 1


def test_a_report_from_another_host_is_not_announced(add_instance, sent):
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    power(iid, "crashed", host="hv2")
    assert sent == []


def test_nothing_is_announced_when_disabled(add_instance, monkeypatch):
    out = []
    monkeypatch.setattr(publisher, "get_notifier", lambda: out.append(1))
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    power(iid, "crashed")
    assert out == []
