"""The ipmitool hardware type: which IPMI requests each operation sends
(python-ipmi encodes them) and how the answers read."""

import pytest

from arame.agents.bma import errors
from arame.agents.bma.drivers import ipmitool_transport
from arame.agents.bma.drivers.ipmitool import IPMIHardware


def raw(call) -> list[str]:
    return call.args[call.args.index("raw") + 1 :]


@pytest.fixture
def hw():
    return IPMIHardware(ipmitool_transport.Settings(attempts=1))


def test_power_status_and_chassis_control(ipmitool_emu, hw, bmc):
    assert hw.power.get_power_state(bmc) == "off"
    hw.power.set_power_state(bmc, "on")
    assert hw.power.validate(bmc) == "on"
    hw.power.set_power_state(bmc, "soft_off")
    hw.power.set_power_state(bmc, "off")
    assert [raw(c) for c in ipmitool_emu.calls] == [
        ["0x00", "0x01"],
        ["0x00", "0x02", "0x01"],
        ["0x00", "0x01"],
        ["0x00", "0x02", "0x05"],
        ["0x00", "0x02", "0x00"],
    ]


def test_one_time_pxe_keeps_the_flags_past_the_bmc_timeout(
    ipmitool_emu, hw, bmc
):
    hw.management.set_boot_device(bmc, "pxe")
    assert [raw(c) for c in ipmitool_emu.calls] == [
        # parameter 3: don't clear the valid bit after 60 s
        ["0x00", "0x08", "0x03", "0x08"],
        # parameter 5: valid, this boot only, legacy; device 0001 (PXE)
        ["0x00", "0x08", "0x05", "0x80", "0x04", "0x00", "0x00", "0x00"],
    ]
    assert hw.management.get_boot_device(bmc) == {
        "boot_device": "pxe",
        "persistent": False,
    }


def test_persistent_disk_in_efi_mode(ipmitool_emu, bmc):
    hw = IPMIHardware(ipmitool_transport.Settings(attempts=1), boot_mode="efi")
    hw.management.set_boot_device(bmc, "disk", persistent=True)
    assert [raw(c) for c in ipmitool_emu.calls] == [
        ["0x00", "0x08", "0x05", "0xe0", "0x08", "0x00", "0x00", "0x00"]
    ]
    assert hw.management.get_boot_device(bmc) == {
        "boot_device": "disk",
        "persistent": True,
    }


def test_boot_flags_not_valid_or_not_ours_read_as_none(ipmitool_emu, hw, bmc):
    assert hw.management.get_boot_device(bmc)["boot_device"] is None
    ipmitool_emu.boot_flags = [0x80, 0x14, 0, 0, 0]  # cd
    assert hw.management.get_boot_device(bmc)["boot_device"] is None


def test_a_refused_request_names_the_completion_code(ipmitool_emu, hw, bmc):
    ipmitool_emu.refuse = 0xC1
    with pytest.raises(
        errors.BMCCommandRefused,
        match=r"refused power on: completion code 0xc1",
    ):
        hw.power.set_power_state(bmc, "on")
