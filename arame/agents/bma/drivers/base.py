"""What a bare-metal driver is: a power interface and a management (boot
device) interface composed into a hardware type, as Ironic composes
`ipmitool` power and management into its `ipmi` hardware type.

The interfaces only ask: "power on" returns once the BMC accepted the
request. Waiting for the node to get there, falling back from a soft to
a hard power off and rebooting are the agent's (power.py), the same over
every driver.
"""

import abc
import dataclasses

POWER_ON = "on"
POWER_OFF = "off"
SOFT_POWER_OFF = "soft_off"  # ACPI: asks the operating system to shut down

POWER_STATES = (POWER_ON, POWER_OFF)
POWER_REQUESTS = (POWER_ON, POWER_OFF, SOFT_POWER_OFF)

BOOT_PXE = "pxe"
BOOT_DISK = "disk"
BOOT_DEVICES = (BOOT_PXE, BOOT_DISK)


@dataclasses.dataclass(frozen=True)
class BMC:
    """A node and how to reach its BMC, validated (checks.node).

    The password stays out of repr() so a log line or a traceback that
    shows the object never shows it.
    """

    node_id: str
    address: str
    port: int
    username: str
    password: str = dataclasses.field(repr=False)
    interface: str = "lanplus"

    def __str__(self) -> str:
        return f"{self.node_id} (BMC {self.address}:{self.port})"


class PowerInterface(abc.ABC):
    def validate(self, bmc: BMC) -> str:
        """The power state, read to prove that the BMC answers these
        credentials (errors.BMC* otherwise)."""
        return self.get_power_state(bmc)

    @abc.abstractmethod
    def get_power_state(self, bmc: BMC) -> str:
        """POWER_ON or POWER_OFF."""

    @abc.abstractmethod
    def set_power_state(self, bmc: BMC, state: str) -> None:
        """Ask for one of POWER_REQUESTS; returns when the BMC accepted."""


class ManagementInterface(abc.ABC):
    def get_supported_boot_devices(self, bmc: BMC) -> tuple[str, ...]:
        return BOOT_DEVICES

    @abc.abstractmethod
    def set_boot_device(
        self, bmc: BMC, device: str, persistent: bool = False
    ) -> None:
        """Boot from `device` (BOOT_DEVICES) next time, or every time."""

    @abc.abstractmethod
    def get_boot_device(self, bmc: BMC) -> dict:
        """{"boot_device": one of BOOT_DEVICES or None (the BMC's own
        order, or a device we do not manage), "persistent": bool}."""


class HardwareType:
    """The unit loaded by name from `[bma] driver` (entry points
    `arame.bma.drivers`)."""

    name = ""

    def __init__(self, power: PowerInterface, management: ManagementInterface):
        self.power = power
        self.management = management

    @classmethod
    def from_config(cls, conf) -> "HardwareType":
        raise NotImplementedError
