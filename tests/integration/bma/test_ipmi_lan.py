"""The `lan` interface (IPMI 1.5) against OpenIPMI's ipmi_sim, whose
chassis program drives a libvirt domain."""

import time

import pytest

from arame.agents.bma import errors
from arame.agents.bma.drivers.ipmitool import IPMIHardware
from arame.agents.bma.manager import BMAManager

from .conftest import PASSWORD, TIMING, settings


@pytest.fixture
def manager(sim_lab):
    sim_lab.domain.force_off()
    return BMAManager(IPMIHardware(settings()), TIMING)


def test_power_and_boot_device_over_ipmi_1_5(sim_lab, manager):
    node = sim_lab.node()
    assert manager.validate({}, node)["power_state"] == "off"
    t0 = time.monotonic()
    manager.set_boot_device({}, node, "pxe")
    assert sim_lab.domain.boot_devs() == ["network"]
    manager.power_on({}, node)
    assert sim_lab.domain.state() == "running"
    assert manager.get_power_state({}, node) == "on"
    manager.power_off({}, node)
    assert sim_lab.domain.state() == "shut off"
    manager.set_boot_device({}, node, "disk")
    assert sim_lab.domain.boot_devs() == ["hd"]
    print(f"lan: boot pxe, on, off, boot disk in {time.monotonic() - t0:.2f}s")


def test_soft_power_off_over_ipmi_1_5(sim_lab, manager):
    node = sim_lab.node()
    manager.power_on({}, node)
    out = manager.soft_power_off({}, node)
    assert out == {"power_state": "off", "changed": True, "forced": True}
    assert sim_lab.domain.state() == "shut off"


def test_refused_logins_over_ipmi_1_5(sim_lab, manager):
    node = sim_lab.node()
    manager.power_on({}, node)
    with pytest.raises(errors.BMCAuthFailed, match="wrong password"):
        manager.power_off({}, sim_lab.node(bmc_password="x" + PASSWORD[1:]))
    with pytest.raises(errors.BMCAuthFailed, match="unknown user name"):
        manager.power_off({}, sim_lab.node(bmc_username="nobody"))
    assert sim_lab.domain.state() == "running"
