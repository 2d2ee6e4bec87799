"""The bma manager over the fake driver: checks before any driver call,
operations, notifications of what changed."""

import threading

import pytest

from arame.agents.bma import checks, errors
from arame.agents.bma.drivers.fake import FakeHardware
from arame.agents.bma.manager import BMAManager, RPCEndpoint
from arame.agents.bma.power import Timing

from .conftest import PASSWORD, node_dict

FAST = Timing(state_timeout=1.0, poll_interval=0.01, soft_off_timeout=0.1)


class Notifier:
    def __init__(self):
        self.sent = []

    def info(self, ctxt, event, payload):
        self.sent.append((event, payload))


@pytest.fixture
def hw():
    return FakeHardware(lag=1)


@pytest.fixture
def notifier():
    return Notifier()


@pytest.fixture
def mgr(hw, notifier):
    return BMAManager(hw, FAST, notifier=notifier, host="bm1")


def states(notifier):
    return [(p["node_id"], p["power_state"]) for _, p in notifier.sent]


@pytest.mark.parametrize(
    "method,extra",
    [
        ("validate", {}),
        ("get_power_state", {}),
        ("power_on", {}),
        ("power_off", {}),
        ("soft_power_off", {}),
        ("reboot", {}),
        ("set_boot_device", {"device": "pxe"}),
    ],
)
@pytest.mark.parametrize(
    "bad",
    [
        {"id": "bm-bad"},
        {"bmc_address": "-H"},
        {"bmc_port": 70000},
        {"bmc_username": "a;b"},
        {"bmc_password": ""},
        {"interface": "open"},
    ],
)
def test_malformed_nodes_never_reach_the_driver(mgr, hw, method, extra, bad):
    with pytest.raises(errors.InvalidNode):
        getattr(mgr, method)({}, node_dict(**bad), **extra)
    assert hw.calls == []


def test_bad_boot_device_is_refused_before_the_driver(mgr, hw):
    with pytest.raises(errors.InvalidNode):
        mgr.set_boot_device({}, node_dict(), "floppy")
    with pytest.raises(errors.InvalidNode):
        mgr.set_boot_device({}, node_dict(), "pxe", persistent="yes")
    assert hw.calls == []


def test_operations_and_their_notifications(mgr, hw, notifier):
    node = node_dict()
    assert mgr.validate({}, node) == {
        "power_state": "off",
        "boot_devices": ["pxe", "disk"],
    }
    assert mgr.set_boot_device({}, node, "pxe") == {
        "boot_device": "pxe",
        "persistent": False,
    }
    assert mgr.power_on({}, node) == {"power_state": "on", "changed": True}
    assert mgr.get_power_state({}, node) == "on"
    assert mgr.reboot({}, node)["power_state"] == "on"
    assert mgr.power_off({}, node)["changed"] is True
    assert mgr.power_off({}, node)["changed"] is False
    fake = hw.nodes["bm-aaaa0001"]
    assert (fake.boot_device, fake.persistent) == ("pxe", False)
    # One notification per change, none for the same state again.
    assert states(notifier) == [
        ("bm-aaaa0001", "off"),
        ("bm-aaaa0001", "on"),
        ("bm-aaaa0001", "off"),
    ]
    assert notifier.sent[0] == (
        "node.power",
        {"node_id": "bm-aaaa0001", "host": "bm1", "power_state": "off"},
    )
    assert PASSWORD not in repr(notifier.sent)


def test_soft_power_off_reports_when_it_was_forced(mgr, hw):
    node = node_dict()
    mgr.power_on({}, node)
    hw.nodes["bm-aaaa0001"].acpi = False
    assert mgr.soft_power_off({}, node)["forced"] is True


def test_bmc_failures_are_typed(mgr, hw):
    hw.credentials["bm-aaaa0001"] = ("admin", "other")
    with pytest.raises(errors.BMCAuthFailed, match="wrong password"):
        mgr.validate({}, node_dict())
    hw.unreachable.add("192.0.2.10")
    with pytest.raises(errors.BMCUnreachable):
        mgr.power_on({}, node_dict())


def test_operations_on_one_node_do_not_overlap(mgr, hw):
    hold = threading.Event()
    inside = threading.Event()
    real = hw.power.set_power_state

    def slow_set(bmc, state):
        inside.set()
        hold.wait(5)
        real(bmc, state)

    hw.power.set_power_state = slow_set
    t = threading.Thread(target=mgr.power_on, args=({}, node_dict()))
    t.start()
    assert inside.wait(5)
    # The sync leaves a node alone while an operation holds it...
    bmc = checks.node(node_dict())
    assert mgr.poll_power_state(bmc) == (None, None)
    # ...and another node is not held up.
    assert mgr.get_power_state({}, node_dict(id="bm-aaaa0002")) == "off"
    hold.set()
    t.join(5)
    assert mgr.poll_power_state(bmc) == ("on", None)


def test_rpc_endpoint_exposes_only_rpc_methods(mgr):
    ep = RPCEndpoint(mgr)
    assert ep.target.version == "1.1"
    assert ep.get_power_state({}, node_dict()) == "off"
    for private in ("poll_power_state", "inventory", "_operation", "driver"):
        with pytest.raises(AttributeError):
            getattr(ep, private)


def test_inventory(mgr):
    mgr.get_power_state({}, node_dict())
    assert mgr.inventory() == {"bare_metal": {"driver": "fake", "nodes": 1}}
