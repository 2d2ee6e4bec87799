"""Power operations over a driver: ask, wait with a deadline, soft then
hard, reboot as off then on."""

import pytest

from arame.agents.bma import errors
from arame.agents.bma.drivers.fake import FakeHardware
from arame.agents.bma.power import PowerControl, Timing
from tests.helpers.clocks import FakeClock

FAST = Timing(state_timeout=1.0, poll_interval=0.01, soft_off_timeout=0.2)


def sets(hw):
    return [arg for _, call, arg in hw.calls if call == "set_power_state"]


def test_power_on_waits_until_the_chassis_shows_it(bmc):
    hw = FakeHardware(lag=3)
    pc = PowerControl(hw, FAST)
    assert pc.power_on(bmc) == {"power_state": "on", "changed": True}
    reads = [c for _, c, _ in hw.calls if c == "get_power_state"]
    assert len(reads) == 1 + 4  # the check before, 3 stale, then "on"
    assert pc.power_on(bmc) == {"power_state": "on", "changed": False}
    assert sets(hw) == ["on"]


def test_a_state_never_reached_is_a_timeout(bmc):
    hw = FakeHardware(lag=10**6)
    clock = FakeClock()
    pc = PowerControl(
        hw,
        Timing(state_timeout=0.2, poll_interval=0.05),
        clock=clock.monotonic,
        sleep=clock.sleep,
    )
    with pytest.raises(errors.PowerStateTimeout, match="is not on 0.2s"):
        pc.power_on(bmc)
    # Asked every 0.05 s, the last time at the deadline, not after it.
    assert clock.now == pytest.approx(0.2)
    assert clock.slept == pytest.approx([0.05] * 4)


def test_soft_power_off_when_the_os_listens(bmc):
    hw = FakeHardware()
    pc = PowerControl(hw, FAST)
    pc.power_on(bmc)
    assert pc.soft_power_off(bmc) == {
        "power_state": "off",
        "changed": True,
        "forced": False,
    }
    assert sets(hw) == ["on", "soft_off"]
    assert pc.soft_power_off(bmc)["changed"] is False


def test_soft_power_off_turns_hard_after_the_deadline(bmc):
    hw = FakeHardware()
    clock = FakeClock()
    pc = PowerControl(hw, FAST, clock=clock.monotonic, sleep=clock.sleep)
    pc.power_on(bmc)
    hw.nodes[bmc.node_id].acpi = False
    t0 = clock.now
    assert pc.soft_power_off(bmc) == {
        "power_state": "off",
        "changed": True,
        "forced": True,
    }
    # The hard power off came once the ACPI request had its 0.2 s.
    assert clock.now - t0 >= FAST.soft_off_timeout
    assert sets(hw) == ["on", "soft_off", "off"]


def test_reboot_is_off_then_on_and_from_off_just_on(bmc):
    hw = FakeHardware()
    pc = PowerControl(hw, FAST)
    assert pc.reboot(bmc)["power_state"] == "on"
    assert pc.reboot(bmc)["power_state"] == "on"
    assert sets(hw) == ["on", "off", "on"]


def test_bmc_errors_pass_through(bmc):
    hw = FakeHardware()
    hw.unreachable.add(bmc.address)
    with pytest.raises(errors.BMCUnreachable):
        PowerControl(hw, FAST).power_off(bmc)
