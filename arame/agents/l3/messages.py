"""The messages the L3 agent takes (issue 13), in one place:
arame.common.routing.router_message builds them (the flows and the
collector's expected_routers answer) and the manager applies them. The
wire stays plain dicts; the types are for mypy and for the reader."""

from typing import TypedDict


class Segment(TypedDict):
    """The network a router leg is on, as the agent plugs it."""

    id: str
    segmentation: str
    segment_id: int | None
    mtu: int


class ExternalSegment(Segment):
    #: the [l3] physical_networks name of the external network's device
    physical_network: str | None


class Gateway(TypedDict):
    network: ExternalSegment
    #: "address/prefix" on the external network
    address: str
    #: the external network's gateway: the upstream router
    next_hop: str


class Interface(TypedDict):
    network: Segment
    #: "address/prefix": the network's gateway
    address: str


class FloatingIp(TypedDict):
    """add_floating_ip's floating_ip (1.2), and each of a router's."""

    address: str
    fixed_address: str


class Router(TypedDict):
    """A router whole (apply_router): the agent makes it exactly this."""

    id: str
    gateway: Gateway | None
    interfaces: list[Interface]
    floating_ips: list[FloatingIp]
