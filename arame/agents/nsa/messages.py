"""The messages the naming service agent takes (issue 13), in one place:
arame.common.naming builds them (for the flows and the collector's resync
answer) and the manager parses them (records.py). The wire stays plain
dicts; the types are for mypy and for the reader."""

from typing import NotRequired, TypedDict


class NetworkSpec(TypedDict):
    """A network as dnsmasq serves it (naming.network_message)."""

    id: str
    cidr: str
    gateway: str
    #: where dnsmasq listens: the gateway until a router holds it
    dhcp_address: NotRequired[str | None]
    dns_domain: str
    #: [[first, last], ...]
    dhcp_ranges: list[list[str]]
    mtu: int
    bridge: str
    #: the bridge's segment port, as hva makes it (an nsa before 1.2
    #: ignores them)
    segmentation: NotRequired[str]
    segment_id: NotRequired[int | None]


class Reservation(TypedDict):
    """A MAC's address and name (sync's reservations; add_reservation takes
    the same fields as arguments)."""

    mac: str
    ip: str
    hostname: str
    #: 1.2: the iPXE script served to the MAC over TFTP (a bare-metal
    #: node's sanboot of its root volume, arame.common.pxe)
    boot_script: NotRequired[str]


class NetworkState(TypedDict):
    """One network of the collector's resync answer (naming.expected)."""

    network: NetworkSpec
    reservations: list[Reservation]
