"""The `ipmitool` hardware type: power and boot device over IPMI, the
requests encoded by python-ipmi and carried by ipmitool
(ipmitool_transport.py).

Every method opens its own connection (a fresh password file, removed at
the end), so nothing about a node outlives the call that named it.
"""

import contextlib

from pyipmi import chassis
from pyipmi.errors import CompletionCodeError
from pyipmi.utils import ByteBuffer

from arame.agents.bma import errors
from arame.agents.bma.drivers import base, ipmitool_transport

_CONTROL = {
    base.POWER_ON: chassis.CONTROL_POWER_UP,
    base.POWER_OFF: chassis.CONTROL_POWER_DOWN,
    base.SOFT_POWER_OFF: chassis.CONTROL_SOFT_SHUTDOWN,
}
_DEVICE = {
    base.BOOT_PXE: chassis.BootDevice.PXE,
    base.BOOT_DISK: chassis.BootDevice.DEFAULT_HDD,
}
_DEVICE_NAME = {v: k for k, v in _DEVICE.items()}

# Boot option parameter 3 (BMC boot flag valid bit clearing), bit 3: keep
# the boot flags past the 60 s after which a BMC may forget a one-time
# boot device (a slow POST would otherwise boot from disk).
_KEEP_FLAGS_PAST_TIMEOUT = 0x08
_FLAGS_VALID = 0x80


@contextlib.contextmanager
def _refusals(bmc: base.BMC, what: str):
    """A completion code other than success, as BMCCommandRefused."""
    try:
        yield
    except CompletionCodeError as e:
        raise errors.BMCCommandRefused(
            f"BMC of {bmc} refused {what}: completion code {e.cc:#04x} "
            f"({e.cc_desc})"
        ) from None


class _Connected:
    def __init__(self, settings: ipmitool_transport.Settings):
        self.settings = settings

    def connect(self, bmc: base.BMC):
        return ipmitool_transport.connect(bmc, self.settings)


class IPMIPower(_Connected, base.PowerInterface):
    def get_power_state(self, bmc: base.BMC) -> str:
        with self.connect(bmc) as ipmi, _refusals(bmc, "chassis status"):
            status = ipmi.get_chassis_status()
        return base.POWER_ON if status.power_on else base.POWER_OFF

    def set_power_state(self, bmc: base.BMC, state: str) -> None:
        option = _CONTROL[state]
        with self.connect(bmc) as ipmi, _refusals(bmc, f"power {state}"):
            ipmi.chassis_control(option)


class IPMIManagement(_Connected, base.ManagementInterface):
    def __init__(
        self,
        settings: ipmitool_transport.Settings,
        boot_mode: str = "legacy",
        disable_boot_timeout: bool = True,
    ):
        super().__init__(settings)
        self.boot_mode = boot_mode
        self.disable_boot_timeout = disable_boot_timeout

    def set_boot_device(
        self, bmc: base.BMC, device: str, persistent: bool = False
    ) -> None:
        with (
            self.connect(bmc) as ipmi,
            _refusals(bmc, f"boot device {device}"),
        ):
            if self.disable_boot_timeout and not persistent:
                ipmi.set_system_boot_options(
                    chassis.BOOT_PARAMETER_BMC_BOOT_FLAG_VALID_BIT_CLEARING,
                    ByteBuffer([_KEEP_FLAGS_PAST_TIMEOUT]),
                )
            ipmi.set_boot_options(
                _DEVICE[device], self.boot_mode, bool(persistent)
            )

    def get_boot_device(self, bmc: base.BMC) -> dict:
        with self.connect(bmc) as ipmi, _refusals(bmc, "boot options"):
            data = ipmi.get_system_boot_options(
                chassis.BOOT_PARAMETER_BOOT_FLAGS
            )
        if not data or not data[0] & _FLAGS_VALID:
            return {"boot_device": None, "persistent": False}
        try:
            device = _DEVICE_NAME.get(chassis.data_to_boot_device(data))
        except KeyError:  # a reserved code: not ours
            device = None
        return {
            "boot_device": device,
            "persistent": chassis.data_to_boot_persistency(data),
        }


class IPMIHardware(base.HardwareType):
    name = "ipmitool"

    def __init__(
        self,
        settings: ipmitool_transport.Settings,
        boot_mode: str = "legacy",
        disable_boot_timeout: bool = True,
    ):
        self.settings = settings
        super().__init__(
            IPMIPower(settings),
            IPMIManagement(settings, boot_mode, disable_boot_timeout),
        )

    @classmethod
    def from_config(cls, conf) -> "IPMIHardware":
        return cls(
            ipmitool_transport.Settings.from_config(conf),
            boot_mode=conf.bma.boot_mode,
            disable_boot_timeout=conf.bma.disable_boot_timeout,
        )
