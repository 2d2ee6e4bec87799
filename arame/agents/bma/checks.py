"""Checks on everything a message carries about a node, before any of it
reaches ipmitool: the node and its BMC (the field checks the API also
applies live in arame.common.bmc), the boot device.
"""

from arame.agents.bma.drivers.base import BMC, BOOT_DEVICES
from arame.common import bmc as fields
from arame.common.bmc import InvalidNode, interface

__all__ = ["boot_device", "interface", "node", "persistent"]


def boot_device(value) -> str:
    if value not in BOOT_DEVICES:
        raise InvalidNode(
            f"boot device must be one of {', '.join(BOOT_DEVICES)}: {value!r}"
        )
    return value


def persistent(value) -> bool:
    if not isinstance(value, bool):
        raise InvalidNode(f"persistent must be true or false: {value!r}")
    return value


def node(value, default_interface: str = "lanplus") -> BMC:
    """The node of a message ({"id", "bmc_address", "bmc_port",
    "bmc_username", "bmc_password", "interface"?}) as a checked BMC."""
    if not isinstance(value, dict):
        raise InvalidNode("node must be an object")
    iface = interface(value.get("interface") or default_interface)
    return BMC(
        node_id=fields.node_id(value.get("id")),
        address=fields.bmc_address(value.get("bmc_address")),
        port=fields.bmc_port(value.get("bmc_port")),
        username=fields.bmc_username(value.get("bmc_username")),
        password=fields.bmc_password(value.get("bmc_password"), iface),
        interface=iface,
    )
