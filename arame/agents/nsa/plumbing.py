"""The link dnsmasq listens on: a bridge holding the network's DHCP address.

On a real network node the bridge (and its VXLAN port) comes from the
networking module hva uses; until nsa calls it, this makes a bare bridge
when the message names one that is missing. The driver only calls
`ensure(...)` and `remove(...)`, so swapping the implementation is one
assignment (`DnsmasqDriver.plumbing = other_module`).

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

import ipaddress
import json

from arame.common import runner


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


def ensure(
    bridge: str, address: str, mtu: int | None, netns: str | None
) -> bool:
    """Bridge up with `address` (`ip/prefix`) on it; True if the bridge was
    made here (so that remove() takes it away again). SubnetInUse, with
    nothing made, if another link holds the subnet."""
    check_subnet_free(bridge, address, netns)
    created = False
    if not link_exists(bridge, netns) and _add(
        ["link", "add", bridge, "type", "bridge"], netns
    ):
        if mtu:
            _ip(["link", "set", bridge, "mtu", str(mtu)], netns)
        created = True
    if address not in addresses(bridge, netns):
        _add(["addr", "add", address, "dev", bridge], netns)
    _ip(["link", "set", bridge, "up"], netns)
    return created


def remove(
    bridge: str, address: str, created: bool, netns: str | None
) -> None:
    if not link_exists(bridge, netns):
        return
    if created:
        _ip(["link", "del", bridge], netns)
    elif address in addresses(bridge, netns):
        _ip(["addr", "del", address, "dev", bridge], netns)
