"""What a router is to the L3 agent, and what a driver does with one.

The scheduler sends a router's FULL desired state (the message documented
in /tmp/helpers/L3-CONTRACT.md, "The router message"); `parse_router`
checks all of it before any command runs and turns it into a frozen
RouterSpec, so that the drivers never see an unchecked id, address or
name. A driver makes a router exactly as its spec says (idempotently) and
removes it entirely.
"""

import abc
import bisect
import dataclasses
import ipaddress
import re

from arame.agents.hva.networking import base as net_base
from arame.common import exceptions, ids

# Link names, all within Linux's 15 characters. In the router's
# namespace: "qg0" faces the external network, "ri<network suffix>" each
# tenant network. On the host: "qg<router suffix>" and "qr<network
# suffix>", the other ends of those veths, ports of the bridges.
EXTERNAL_DEV = "qg0"
TENANT_DEV_PREFIX = "ri"
HOST_TENANT_PREFIX = "qr"
HOST_EXTERNAL_PREFIX = "qg"

PHYSICAL_NETWORK_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")

# Generous limits: a message beyond them is a bug, not a big router.
MAX_INTERFACES = 64
MAX_FLOATING_IPS = 65536


class RouterError(exceptions.AgentError):
    """A router could not be made as described on this host."""

    code = "router_failed"


class InvalidRouter(RouterError):
    """The router description is invalid."""

    status, code = 422, "invalid_router"


def is_router_id(value) -> bool:
    # ids.PREFIXES names routers "rt"; read from there when it does.
    prefix = ids.PREFIXES.get("router", "rt")
    return (
        isinstance(value, str)
        and re.fullmatch(rf"{prefix}-[a-z0-9]{{8}}", value) is not None
    )


def check_router_id(value) -> str:
    if not is_router_id(value):
        raise InvalidRouter(f"not a router id: {value!r}")
    return value


def suffix(resource_id: str) -> str:
    return resource_id.split("-", 1)[1]


def tenant_dev(network_id: str) -> str:
    """The router's end of the veth into a tenant network's bridge."""
    return TENANT_DEV_PREFIX + suffix(network_id)


def host_tenant_dev(network_id: str) -> str:
    return HOST_TENANT_PREFIX + suffix(network_id)


def host_external_dev(router_id: str) -> str:
    return HOST_EXTERNAL_PREFIX + suffix(router_id)


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    id: str
    segmentation: str
    segment_id: int | None
    mtu: int | None
    physical_network: str | None = None

    def to_message(self) -> dict:
        """The form LinuxBridgeNetworking.ensure_network takes."""
        return {
            "id": self.id,
            "segmentation": self.segmentation,
            "segment_id": self.segment_id,
            "mtu": self.mtu,
        }


@dataclasses.dataclass(frozen=True)
class Gateway:
    network: NetworkSpec
    address: ipaddress.IPv4Interface  # the router's, with the prefix
    next_hop: ipaddress.IPv4Address | None


@dataclasses.dataclass(frozen=True)
class Interface:
    network: NetworkSpec
    address: ipaddress.IPv4Interface  # the network's gateway, held here

    @property
    def dev(self) -> str:
        return tenant_dev(self.network.id)


@dataclasses.dataclass(frozen=True)
class FloatingIP:
    address: ipaddress.IPv4Address
    fixed_address: ipaddress.IPv4Address


@dataclasses.dataclass(frozen=True)
class RouterSpec:
    id: str
    gateway: Gateway | None = None
    interfaces: tuple[Interface, ...] = ()
    floating_ips: tuple[FloatingIP, ...] = ()

    @property
    def subnets(self) -> list[ipaddress.IPv4Network]:
        return [i.address.network for i in self.interfaces]


# -- parsing -----------------------------------------------------------------


def parse_router(msg) -> RouterSpec:
    """The checked spec of a router message; InvalidRouter naming the first
    problem otherwise."""
    if not isinstance(msg, dict):
        raise InvalidRouter(f"not a router: {type(msg).__name__}")
    router_id = check_router_id(msg.get("id"))
    try:
        return _parse(router_id, msg)
    except InvalidRouter as e:
        raise InvalidRouter(f"router {router_id}: {e.message}") from None


def _parse(router_id: str, msg: dict) -> RouterSpec:
    gateway = None
    if msg.get("gateway") is not None:
        gateway = _gateway(msg["gateway"])
    raw = msg.get("interfaces") or []
    if not isinstance(raw, list):
        raise InvalidRouter("interfaces: not a list")
    if len(raw) > MAX_INTERFACES:
        raise InvalidRouter(f"more than {MAX_INTERFACES} interfaces")
    interfaces = tuple(_interface(i) for i in raw)
    _check_interfaces(interfaces, gateway)
    raw = msg.get("floating_ips") or []
    if not isinstance(raw, list):
        raise InvalidRouter("floating_ips: not a list")
    if len(raw) > MAX_FLOATING_IPS:
        raise InvalidRouter(f"more than {MAX_FLOATING_IPS} floating IPs")
    fips = tuple(_floating(f) for f in raw)
    _check_floating(fips, gateway, interfaces)
    return RouterSpec(
        router_id,
        gateway,
        tuple(sorted(interfaces, key=lambda i: i.network.id)),
        tuple(sorted(fips, key=lambda f: f.address)),
    )


def with_floating_ip(
    spec: RouterSpec, address, fixed_address=None
) -> RouterSpec:
    """`spec` with floating IP `address` mapped to `fixed_address` (None:
    not mapped), checked as parse_router checks a whole message
    (InvalidRouter): the spec of a delta message (add_floating_ip,
    remove_floating_ip) applied to the router's last spec."""
    fip = _address(address, "floating IP")
    # `spec` was checked whole: only the new mapping is, against the
    # others (with 1,000 floating IPs a whole check is most of a delta's
    # time on a busy host). The others stay the same objects: the driver
    # tells what changed by identity (netns_floating.changes).
    key = int(fip)
    fips = [f for f in spec.floating_ips if int(f.address) != key]
    if fixed_address is not None:
        new = FloatingIP(fip, _address(fixed_address, "fixed address"))
        try:
            _check_floating((new,), spec.gateway, spec.interfaces)
            fixed = int(new.fixed_address)
            if any(int(f.fixed_address) == fixed for f in fips):
                raise InvalidRouter(
                    f"fixed address {new.fixed_address} has two floating IPs"
                )
        except InvalidRouter as e:
            raise InvalidRouter(f"router {spec.id}: {e.message}") from None
        at = bisect.bisect(fips, key, key=lambda f: int(f.address))
        fips.insert(at, new)
    return dataclasses.replace(spec, floating_ips=tuple(fips))


def _network(raw, *, external: bool) -> NetworkSpec:
    try:
        net = net_base.parse_network(raw)
    except net_base.InvalidNetwork as e:
        raise InvalidRouter(e.message) from None
    phys = raw.get("physical_network")
    if external:
        if net.segmentation != "vxlan" and not (
            isinstance(phys, str) and PHYSICAL_NETWORK_RE.fullmatch(phys)
        ):
            raise InvalidRouter(
                f"{net.id}: a {net.segmentation} external network needs a "
                f"physical_network name, not {phys!r}"
            )
    elif net.segmentation == "flat":
        raise InvalidRouter(f"{net.id}: a tenant network cannot be flat")
    return NetworkSpec(
        net.id,
        net.segmentation,
        net.segment_id,
        net.mtu,
        phys if external and net.segmentation != "vxlan" else None,
    )


def _iface_address(value, what: str) -> ipaddress.IPv4Interface:
    if not isinstance(value, str) or "/" not in value:
        raise InvalidRouter(f"{what}: not an address/prefix: {value!r}")
    try:
        iface = ipaddress.IPv4Interface(value)
    except ValueError:
        raise InvalidRouter(
            f"{what}: not an IPv4 address/prefix: {value!r}"
        ) from None
    net = iface.network
    if net.prefixlen > 30:
        raise InvalidRouter(f"{what}: prefix /{net.prefixlen} is too long")
    if iface.ip in (net.network_address, net.broadcast_address):
        raise InvalidRouter(f"{what}: {iface.ip} is not a host of {net}")
    return iface


def _address(value, what: str) -> ipaddress.IPv4Address:
    try:
        if not isinstance(value, str):
            raise ValueError
        return ipaddress.IPv4Address(value)
    except ValueError:
        raise InvalidRouter(
            f"{what}: not an IPv4 address: {value!r}"
        ) from None


def _gateway(raw) -> Gateway:
    if not isinstance(raw, dict):
        raise InvalidRouter(f"gateway: not an object: {raw!r}")
    net = _network(raw.get("network"), external=True)
    address = _iface_address(raw.get("address"), "gateway address")
    hop = raw.get("next_hop")
    next_hop = None
    if hop is not None:
        next_hop = _address(hop, "gateway next_hop")
        if next_hop not in address.network or next_hop == address.ip:
            raise InvalidRouter(
                f"gateway next_hop {next_hop} is not another host of "
                f"{address.network}"
            )
    return Gateway(net, address, next_hop)


def _interface(raw) -> Interface:
    if not isinstance(raw, dict):
        raise InvalidRouter(f"interface: not an object: {raw!r}")
    net = _network(raw.get("network"), external=False)
    return Interface(net, _iface_address(raw.get("address"), net.id))


def _check_interfaces(
    interfaces: tuple[Interface, ...], gateway: Gateway | None
) -> None:
    seen: dict[str, Interface] = {}
    for i in interfaces:
        if i.network.id in seen:
            raise InvalidRouter(f"network {i.network.id} attached twice")
        if gateway and i.network.id == gateway.network.id:
            raise InvalidRouter(
                f"network {i.network.id} is both the gateway and attached"
            )
        if gateway and i.address.network.overlaps(gateway.address.network):
            raise InvalidRouter(
                f"{i.network.id} ({i.address.network}) overlaps the external "
                f"network ({gateway.address.network})"
            )
        for other in seen.values():
            if i.address.network.overlaps(other.address.network):
                raise InvalidRouter(
                    f"{i.network.id} ({i.address.network}) overlaps "
                    f"{other.network.id} ({other.address.network})"
                )
        seen[i.network.id] = i


def _floating(raw) -> FloatingIP:
    if not isinstance(raw, dict):
        raise InvalidRouter(f"floating IP: not an object: {raw!r}")
    return FloatingIP(
        _address(raw.get("address"), "floating IP"),
        _address(raw.get("fixed_address"), "fixed address"),
    )


def _check_floating(
    fips: tuple[FloatingIP, ...],
    gateway: Gateway | None,
    interfaces: tuple[Interface, ...],
) -> None:
    if fips and gateway is None:
        raise InvalidRouter("floating IPs need a gateway")
    addresses: set = set()
    fixed: set = set()
    for f in fips:
        ext = gateway.address.network
        if f.address not in ext or f.address in (
            ext.network_address,
            ext.broadcast_address,
        ):
            raise InvalidRouter(
                f"floating IP {f.address} is not a host of {ext}"
            )
        if f.address in (gateway.address.ip, gateway.next_hop):
            raise InvalidRouter(
                f"floating IP {f.address} is the gateway's own address or "
                "its next hop"
            )
        home = next(
            (i for i in interfaces if f.fixed_address in i.address.network),
            None,
        )
        if home is None:
            raise InvalidRouter(
                f"fixed address {f.fixed_address} of {f.address} is in no "
                "attached network"
            )
        net = home.address.network
        if f.fixed_address in (
            home.address.ip,
            net.network_address,
            net.broadcast_address,
        ):
            raise InvalidRouter(
                f"fixed address {f.fixed_address} is not a guest's address"
            )
        if f.address in addresses:
            raise InvalidRouter(f"floating IP {f.address} given twice")
        if f.fixed_address in fixed:
            raise InvalidRouter(
                f"fixed address {f.fixed_address} has two floating IPs"
            )
        addresses.add(f.address)
        fixed.add(f.fixed_address)


# -- the driver interface ----------------------------------------------------


class RouterDriver(abc.ABC):
    """Routers on this host. Thread-safe for different routers; callers
    serialise the calls for one router (the manager's per-router lock)."""

    @abc.abstractmethod
    def apply(self, router: RouterSpec) -> None:
        """Make the router exactly as `router` says: what is missing is
        made, what is there and not in the spec is removed. Repeating it
        changes nothing."""

    @abc.abstractmethod
    def remove(self, router_id: str) -> None:
        """Remove everything made for the router; nothing there is
        success."""

    @abc.abstractmethod
    def routers(self) -> set[str]:
        """Ids of the routers present on this host."""

    def last_applied(self, router_id: str) -> RouterSpec | None:
        """The spec the router was last applied with successfully by this
        driver object (None: not known, e.g. since the agent started): the
        base a delta message is applied to."""
        return None
