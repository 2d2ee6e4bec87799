"""The power sync: node.power notifications when a node's state changes,
and only then."""

import pytest

from arame.agents.bma.drivers.fake import FakeHardware
from arame.agents.bma.manager import BMAManager
from arame.agents.bma.power import Timing
from arame.agents.bma.power_sync import PowerStates, PowerSync

from .conftest import PASSWORD, node_dict
from .test_manager import Notifier

FAST = Timing(state_timeout=1.0, poll_interval=0.01)


@pytest.fixture
def world():
    hw = FakeHardware()
    notifier = Notifier()
    mgr = BMAManager(hw, FAST, notifier=notifier, host="bm1")
    nodes = [
        node_dict(id="bm-aaaa0001"),
        node_dict(id="bm-aaaa0002", bmc_address="192.0.2.11"),
    ]
    sync = PowerSync(mgr, lambda: nodes, workers=4)
    return hw, notifier, mgr, nodes, sync


def sent(notifier):
    out = [(p["node_id"], p["power_state"]) for _, p in notifier.sent]
    notifier.sent.clear()
    return sorted(out)


def test_first_round_reports_every_node_then_only_changes(world):
    hw, notifier, _, _, sync = world
    assert sync.run_once() == {
        "on": [],
        "off": ["bm-aaaa0001", "bm-aaaa0002"],
        "busy": [],
        "failed": {},
    }
    assert sent(notifier) == [("bm-aaaa0001", "off"), ("bm-aaaa0002", "off")]
    sync.run_once()
    assert sent(notifier) == []
    # Someone pressed the power button of node 2.
    hw.nodes["bm-aaaa0002"].power_state = "on"
    sync.run_once()
    assert sent(notifier) == [("bm-aaaa0002", "on")]
    sync.run_once()
    assert sent(notifier) == []


def test_an_operation_reports_and_the_sync_does_not_repeat_it(world):
    _, notifier, mgr, nodes, sync = world
    sync.run_once()
    sent(notifier)
    mgr.power_on({}, nodes[0])
    assert sent(notifier) == [("bm-aaaa0001", "on")]
    sync.run_once()
    assert sent(notifier) == []


def test_bmc_failure_is_reported_once_with_its_reason(world):
    hw, notifier, _, _, sync = world
    sync.run_once()
    sent(notifier)
    hw.unreachable.add("192.0.2.11")
    out = sync.run_once()
    assert list(out["failed"]) == ["bm-aaaa0002"]
    [(event, payload)] = notifier.sent
    assert event == "node.power"
    assert payload["power_state"] == "error"
    assert "did not answer" in payload["reason"]
    notifier.sent.clear()
    sync.run_once()
    assert sent(notifier) == []
    hw.unreachable.clear()
    sync.run_once()
    assert sent(notifier) == [("bm-aaaa0002", "off")]


def test_malformed_nodes_and_a_failed_fetch_do_not_stop_the_sync(world):
    _, _, mgr, nodes, sync = world
    nodes.append(node_dict(id="bm-aaaa0003", bmc_address="-x"))
    out = sync.run_once()
    assert out["failed"].keys() == {"bm-aaaa0003"}
    assert PASSWORD not in repr(out)
    assert out["off"] == ["bm-aaaa0001", "bm-aaaa0002"]

    def broken():
        raise TimeoutError("collector did not answer")

    out = PowerSync(mgr, broken).run_once()
    assert out["failed"] == {"*": "collector did not answer"}


def test_a_node_gone_and_back_is_reported_again(world):
    _, notifier, mgr, nodes, sync = world
    sync.run_once()
    sent(notifier)
    gone = nodes.pop()
    sync.run_once()
    assert len(mgr.power_states) == 1
    nodes.append(gone)
    sync.run_once()
    assert sent(notifier) == [("bm-aaaa0002", "off")]


def test_power_states_without_a_notifier():
    ps = PowerStates()
    assert ps.observe("bm-aaaa0001", "on") is True
    assert ps.observe("bm-aaaa0001", "on") is False
    assert ps.last("bm-aaaa0001") == "on"
