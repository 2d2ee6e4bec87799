"""The link dnsmasq listens on: a bridge holding the network's DHCP address.

On a real network node the bridge (and its VXLAN port) comes from the
networking module hva uses; until nsa calls it, this makes a bare bridge
when the message names one that is missing. The driver only calls
`ensure(...)` and `remove(...)`, so swapping the implementation is one
assignment (`DnsmasqDriver.plumbing = other_module`).

Every step is idempotent: a present bridge or address is left as it is.
"""

import json

from arame.common import runner


def _ip(args, netns, **kw):
    return runner.run(
        ["ip"] + list(args), netns=netns or None, timeout=30, **kw
    )


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


def ensure(
    bridge: str, address: str, mtu: int | None, netns: str | None
) -> bool:
    """Bridge up with `address` (`ip/prefix`) on it; True if the bridge was
    made here (so that remove() takes it away again)."""
    created = False
    if not link_exists(bridge, netns):
        _ip(["link", "add", bridge, "type", "bridge"], netns)
        if mtu:
            _ip(["link", "set", bridge, "mtu", str(mtu)], netns)
        created = True
    if address not in addresses(bridge, netns):
        _ip(["addr", "add", address, "dev", bridge], netns)
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
