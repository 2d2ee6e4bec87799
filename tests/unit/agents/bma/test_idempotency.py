"""Every bma operation asked twice gives the same answer and leaves the
node the same (manager.py's rule), over the fake hardware and over the
ipmitool hardware type against an emulated BMC: what is asked of a node
already there is never sent."""

import pytest

from arame.agents.bma import checks
from arame.agents.bma.drivers import ipmitool_transport
from arame.agents.bma.drivers.fake import FakeHardware
from arame.agents.bma.drivers.ipmitool import IPMIHardware
from arame.agents.bma.manager import BMAManager
from arame.agents.bma.power import Timing

from .conftest import node_dict

CTXT = {}
FAST = Timing(state_timeout=1.0, poll_interval=0.01, soft_off_timeout=0.1)
# chassis control (netfn 0, cmd 2): what changes the power
CONTROL = ["0x00", "0x02"]


class Notifier:
    def __init__(self):
        self.sent = []

    def info(self, ctxt, event, payload):
        self.sent.append((event, payload))


@pytest.fixture(params=["fake", "ipmitool"])
def bma(request):
    """(manager, sent): sent() lists the power requests the BMC got."""
    if request.param == "fake":
        hw = FakeHardware(lag=1)

        def sent():
            return [c[2] for c in hw.calls if c[1] == "set_power_state"]

    else:
        emu = request.getfixturevalue("ipmitool_emu")
        hw = IPMIHardware(ipmitool_transport.Settings(attempts=1))

        def sent():
            out = []
            for c in emu.calls:
                raw = c.args[c.args.index("raw") + 1 :]
                if raw[:2] == CONTROL:
                    out.append(raw[2])
            return out

    mgr = BMAManager(hw, FAST, notifier=Notifier(), host="bm1")
    return mgr, sent


def test_power_on_twice_sends_one_request(bma):
    mgr, sent = bma
    first = mgr.power_on(CTXT, node_dict())
    second = mgr.power_on(CTXT, node_dict())
    assert first == {"power_state": "on", "changed": True}
    assert second == {"power_state": "on", "changed": False}
    assert len(sent()) == 1
    assert mgr.get_power_state(CTXT, node_dict()) == "on"


@pytest.mark.parametrize("op", ["power_off", "soft_power_off"])
def test_power_off_twice_sends_one_request(bma, op):
    mgr, sent = bma
    mgr.power_on(CTXT, node_dict())
    first = getattr(mgr, op)(CTXT, node_dict())
    second = getattr(mgr, op)(CTXT, node_dict())
    assert first["power_state"] == second["power_state"] == "off"
    assert (first["changed"], second["changed"]) == (True, False)
    assert len(sent()) == 2  # the power on, then one power off
    assert mgr.get_power_state(CTXT, node_dict()) == "off"


def test_power_off_of_a_node_never_on_sends_nothing(bma):
    mgr, sent = bma
    assert mgr.power_off(CTXT, node_dict()) == {
        "power_state": "off",
        "changed": False,
    }
    assert sent() == []


def test_set_boot_device_twice(bma):
    mgr, _ = bma
    answer = {"boot_device": "pxe", "persistent": False}
    assert mgr.set_boot_device(CTXT, node_dict(), "pxe") == answer
    assert mgr.set_boot_device(CTXT, node_dict(), "pxe") == answer
    # What the BMC holds, read back through the driver.
    bmc = checks.node(node_dict(), "lanplus")
    got = mgr.driver.management.get_boot_device(bmc)
    assert got == answer


def test_reboot_twice_ends_on(bma):
    mgr, _ = bma
    assert mgr.reboot(CTXT, node_dict())["power_state"] == "on"
    assert mgr.reboot(CTXT, node_dict())["power_state"] == "on"
    assert mgr.get_power_state(CTXT, node_dict()) == "on"


def test_validate_twice(bma):
    mgr, sent = bma
    first = mgr.validate(CTXT, node_dict())
    assert mgr.validate(CTXT, node_dict()) == first
    assert sent() == []
