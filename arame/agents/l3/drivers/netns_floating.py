"""The floating IPs of a router as nft map elements: what changes between
two specs, so that an association loads two elements, not the table."""

from arame.agents.l3.drivers import base, nft_rules


def map_changes(before: dict[str, str], now: dict[str, str]) -> str:
    """The nft transaction taking fip_dnat (floating -> fixed) and
    fip_snat (fixed -> floating) from the pairs `before` to `now`: every
    element going or changing deleted first, then the new ones added
    (addresses parsed by base.parse_router: safe in the text)."""
    table = f"ip {nft_rules.TABLE}"
    old = {(f, x) for f, x in before.items()}
    new = {(f, x) for f, x in now.items()}
    out = []
    for fip, fixed in sorted(old - new):
        out.append(f"delete element {table} fip_dnat {{ {fip} }}")
        out.append(f"delete element {table} fip_snat {{ {fixed} }}")
    for fip, fixed in sorted(new - old):
        out.append(f"add element {table} fip_dnat {{ {fip} : {fixed} }}")
        out.append(f"add element {table} fip_snat {{ {fixed} : {fip} }}")
    return "".join(line + "\n" for line in out)


def pairs(spec: base.RouterSpec) -> dict[str, str]:
    return {str(f.address): str(f.fixed_address) for f in spec.floating_ips}


def changes(
    last: base.RouterSpec, now: base.RouterSpec
) -> tuple[dict[str, str], dict[str, str]]:
    """(the pairs of `last` not in `now`, the pairs of `now` not in
    `last`). A delta's spec keeps every other FloatingIP of `last` as the
    same object (base.with_floating_ip): those are skipped by identity,
    so that a delta converts two addresses to text, not 4,000 (most of an
    association's time in the agent with 1,000 floating IPs on a busy
    host). A full message's objects are all new: compared by text."""
    kept = {id(f) for f in last.floating_ips}
    fresh = {id(f) for f in now.floating_ips}
    old = {
        str(f.address): str(f.fixed_address)
        for f in last.floating_ips
        if id(f) not in fresh
    }
    new = {
        str(f.address): str(f.fixed_address)
        for f in now.floating_ips
        if id(f) not in kept
    }
    for fip in [a for a in old.keys() & new.keys() if old[a] == new[a]]:
        del old[fip], new[fip]
    return old, new


def only_floating_ips_differ(
    a: base.RouterSpec,
    b: base.RouterSpec,
    differences: tuple[dict, dict] | None = None,
) -> bool:
    """`differences`: changes(a, b), if already known."""
    if a.gateway is None or (a.gateway, a.interfaces) != (
        b.gateway,
        b.interfaces,
    ):
        return False
    old, new = differences if differences is not None else changes(a, b)
    return bool(old or new)
