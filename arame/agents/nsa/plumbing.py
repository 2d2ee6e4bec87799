"""The link dnsmasq listens on: a bridge holding the network's DHCP address.

When the network message says how the network leaves the host
(`segmentation`, `segment_id`), the bridge and its segment port (the VXLAN
device with the segment id as VNI, the VLAN sub-interface, the flat
network's physical device) come from hva's networking module, from the
same [hva_networking] options: a network node that runs no hypervisor
serves guests on every other host from the start. Without them (a
controller of an older release) the bridge is a bare, local one.

The bridge may be shared with an hva on the same host (same name, same
port). nsa takes away only its address, and the bridge only if nsa made
it and no other port (a guest's tap) is on it; hva's release in turn
keeps a bridge that holds an address.

Every step is idempotent: a present bridge or address is left as it is,
also one made between the look and the `ip ... add` (the kernel's "File
exists" is then the answer, and a bridge made by someone else stays
theirs).

One namespace holds every network's bridge, and dnsmasq (bound to the
bridge's address) answers DNS through the namespace's routing table, not
through the link the query came in on. A second link holding the same
subnet (another network with the same CIDR, another deployment in the
same namespace) therefore takes the DNS answers of whichever bridge came
second: its guests get their address over DHCP and reach each other, and
every DNS query times out. So a bridge is refused its address while
another link's subnet would take its guests' routes.
"""

import functools
import ipaddress
import json

from oslo_log import log

from arame.agents.hva.networking import LinuxBridgeNetworking, UnderlayError
from arame.common import runner

LOG = log.getLogger(__name__)


def _ip(args, netns, **kw):
    return runner.run(
        ["ip"] + list(args), netns=netns or None, timeout=30, **kw
    )


# What `ip` says when it is asked to add what is there: "RTNETLINK
# answers: File exists" (a link, an address on old kernels), "Error:
# ipv4: Address already assigned." (an address on recent ones).
_EXISTS = ("File exists", "already assigned")


def _add(args, netns) -> bool:
    """An `ip ... add`; False when it was there already."""
    try:
        _ip(args, netns)
    except runner.CommandError as e:
        if any(m in e.stderr for m in _EXISTS):
            return False
        raise
    return True


def link_exists(name: str, netns: str | None) -> bool:
    r = _ip(["-j", "link", "show", "dev", name], netns, ok_codes=(0, 1))
    return r.exit_code == 0 and bool(r.stdout.strip())


def addresses(name: str, netns: str | None) -> set[str]:
    """`addr/prefix` of every IPv4 address on the link."""
    r = _ip(["-j", "-4", "addr", "show", "dev", name], netns)
    out = set()
    for link in json.loads(r.stdout or "[]"):
        for a in link.get("addr_info", []):
            out.add(f"{a['local']}/{a['prefixlen']}")
    return out


class SubnetInUse(RuntimeError):
    """Another link in the namespace routes (part of) the network's
    subnet: answers to its guests would leave through that link."""


def route_thief(
    links: list[dict], bridge: str, address: str
) -> tuple[str, str] | None:
    """(link, addr/prefix) of an address on a link other than `bridge`
    whose subnet is the same as `address`'s or inside it (`links`: the
    JSON of `ip -j -4 addr show`). A wider subnet around it is harmless:
    the longest prefix wins."""
    mine = ipaddress.ip_interface(address).network
    for link in links:
        if link.get("ifname") == bridge:
            continue
        for a in link.get("addr_info", []):
            other = ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}")
            net = other.network
            if net.version == mine.version and net.subnet_of(mine):
                return link.get("ifname", "?"), str(other)
    return None


def check_subnet_free(bridge: str, address: str, netns: str | None) -> None:
    r = _ip(["-j", "-4", "addr", "show"], netns)
    thief = route_thief(json.loads(r.stdout or "[]"), bridge, address)
    if thief is not None:
        link, other = thief
        raise SubnetInUse(
            f"{ipaddress.ip_interface(address).network} of {bridge} is "
            f"already routed through {link} ({other})"
            + (f" in namespace {netns}" if netns else "")
            + ": dnsmasq's DNS answers to its guests would leave through "
            f"{link}; networks served by one naming agent must not overlap"
        )


@functools.cache
def networking(netns: str | None) -> LinuxBridgeNetworking:
    """hva's networking for `netns`, from [hva_networking] (checked, and
    its warnings logged, once per process)."""
    return LinuxBridgeNetworking(netns)


def ensure(
    bridge: str,
    address: str,
    mtu: int | None,
    netns: str | None,
    segment: dict | None = None,
) -> bool:
    """Bridge up with `address` (`ip/prefix`) on it and, given `segment`
    (hva's network message: id, segmentation, segment_id, mtu), its
    segment port; True if the bridge was made here (so that remove()
    may take it away again). SubnetInUse, with nothing made, if another
    link holds the subnet."""
    check_subnet_free(bridge, address, netns)
    created = False
    if segment is not None:
        created = not link_exists(bridge, netns)
        try:
            made = networking(netns).ensure_network(segment)
        except UnderlayError as e:
            # This host has no underlay for the segment (a flat network
            # and no physical_device, say): what nsa did before, a local
            # bridge. ensure_network leaves nothing half-made.
            LOG.warning(
                "%s: no segment port here (%s): dnsmasq serves a local "
                "bridge only",
                segment["id"],
                e,
            )
            created = False
            segment = None
        else:
            if made != bridge:  # records.parse_network refuses this
                raise ValueError(f"{segment['id']}: bridge {made}")
    if segment is None and (
        not link_exists(bridge, netns)
        and _add(["link", "add", bridge, "type", "bridge"], netns)
    ):
        if mtu:
            _ip(["link", "set", bridge, "mtu", str(mtu)], netns)
        created = True
    if address not in addresses(bridge, netns):
        _add(["addr", "add", address, "dev", bridge], netns)
    _ip(["link", "set", bridge, "up"], netns)
    return created


def ports(bridge: str, netns: str | None) -> list[str]:
    """Names of the links enslaved to the bridge."""
    r = _ip(["-j", "link", "show", "master", bridge], netns)
    return [link["ifname"] for link in json.loads(r.stdout or "[]")]


def remove(
    bridge: str,
    address: str,
    created: bool,
    netns: str | None,
    segmented: bool = False,
) -> None:
    """Take `address` off the bridge and, if nsa made it (`created`),
    the bridge too unless a port other than its own segment port (a
    guest's tap of an hva on this host) or another address is on it."""
    if not link_exists(bridge, netns):
        if created and segmented:
            # A VXLAN port left by a removal that stopped half-way.
            networking(netns).release_network(bridge)
        return
    if address in addresses(bridge, netns):
        _ip(["addr", "del", address, "dev", bridge], netns)
    if not created:
        return
    if segmented:
        # Keeps the bridge while a tap or an address is on it.
        networking(netns).release_network(bridge)
    elif not ports(bridge, netns):
        _ip(["link", "del", bridge], netns)
