"""What a node's BMC fields may hold: the address, port and credentials,
and the IPMI interface.

The API checks them when a node is enrolled or updated (a 422 naming the
field) and the bare-metal agent again before any of it reaches ipmitool
(agents/bma/checks.py). An argument list already keeps the shell out;
these checks also keep a value from being read as an option (an address
"-o...") and give a clear refusal instead of an ipmitool error.
"""

import ipaddress
import re

from arame.common import exceptions, ids

INTERFACES = ("lanplus", "lan")

_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_HOST_LABEL}(?:\.{_HOST_LABEL})*")
# IPMI user names are at most 16 bytes.
_USERNAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._@-]{0,15}")
# Printable ASCII: ipmitool reads the first line of its -f file, and an
# IPMI 2.0 password is at most 20 bytes (IPMI 1.5: 16).
_PASSWORD = re.compile(r"[\x20-\x7e]+")
MAX_PASSWORD = {"lanplus": 20, "lan": 16}


class InvalidNode(exceptions.Invalid):
    """A node id, BMC address, port or credential is malformed."""

    code = "bma_invalid_node"


def node_id(value) -> str:
    if not ids.is_valid("node", value):
        raise InvalidNode(f"not a node id: {value!r}")
    return value


def bmc_address(value) -> str:
    """An IP address (canonical form) or a host name."""
    if not isinstance(value, str):
        raise InvalidNode(f"not a BMC address: {value!r}")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(value):
        raise InvalidNode(f"not a BMC address (IP or host name): {value!r}")
    return value.lower()


def bmc_port(value) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= 65535
    ):
        raise InvalidNode(
            f"BMC port must be an integer from 1 to 65535: {value!r}"
        )
    return value


def bmc_username(value) -> str:
    if not isinstance(value, str) or not _USERNAME.fullmatch(value):
        raise InvalidNode(
            f"BMC user name must be 1-16 of [A-Za-z0-9._@-] "
            f"(not starting with . @ or -): {value!r}"
        )
    return value


def bmc_password(value, interface: str) -> str:
    # The message never repeats the value: it is a secret.
    limit = MAX_PASSWORD[interface]
    if (
        not isinstance(value, str)
        or not _PASSWORD.fullmatch(value)
        or len(value) > limit
    ):
        raise InvalidNode(
            f"BMC password must be 1-{limit} printable ASCII "
            f"characters for the {interface} interface"
        )
    return value


def interface(value) -> str:
    if value not in INTERFACES:
        raise InvalidNode(
            f"IPMI interface must be one of {', '.join(INTERFACES)}: {value!r}"
        )
    return value
