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


def only_floating_ips_differ(a: base.RouterSpec, b: base.RouterSpec) -> bool:
    return (
        a.gateway is not None
        and (a.gateway, a.interfaces) == (b.gateway, b.interfaces)
        and set(a.floating_ips) != set(b.floating_ips)
    )
