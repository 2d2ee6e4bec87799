"""A router's nftables ruleset, rendered whole from its spec.

The file replaces the router's table in one transaction (`nft -f`):
`table` (so that the delete finds one), `delete table`, then the full
definition. `flush table` would not do: it leaves map elements, so a
removed floating IP would stay mapped. Deleting the table in a
transaction of its own would stop NAT of live flows between the two.
The table is our own (`ip nat` belongs to iptables-nft).

Floating IPs are two maps (looked up, not one rule each: 1,000 pairs load
in ~25 ms) and the attached subnets leave through one SNAT rule on the
router's external address.
"""

import hashlib
import re

from arame.agents.l3.drivers import base

TABLE = "arame_router"
# The rule that carries the ruleset's digest (nft keeps rule comments in
# its JSON, not table or chain ones): a driver reads it back to skip a
# reload that would change nothing.
_DIGEST_RULE = 'iifname "lo" accept comment "ruleset {}"'
_DIGEST_RE = re.compile(r'comment "ruleset ([0-9a-f]{16})"')
DEFAULT_MAX_CONNECTIONS = 65536


def render(
    spec: base.RouterSpec,
    *,
    max_connections: int | None = DEFAULT_MAX_CONNECTIONS,
    table: str = TABLE,
) -> str:
    """The nft file making `spec`'s table exactly (pure: no I/O)."""
    ext = base.EXTERNAL_DEV
    tenants = [i.dev for i in spec.interfaces]
    fips = spec.floating_ips if spec.gateway else ()
    out = [
        f"table ip {table}",
        f"delete table ip {table}",
        f"table ip {table} {{",
    ]
    out += _map("fip_dnat", [(f.address, f.fixed_address) for f in fips])
    out += _map("fip_snat", [(f.fixed_address, f.address) for f in fips])

    out += _chain("prerouting", "nat", "dstnat", "accept")
    # From outside, and from the guests too (a guest reaching another's
    # floating IP); an address not in the map ends the rule unmatched.
    out.append("\t\tdnat to ip daddr map @fip_dnat")
    out.append("\t}")

    out += _chain("postrouting", "nat", "srcnat", "accept")
    for dev in tenants:
        # Hairpin: a guest reached a neighbour through its floating IP;
        # without this the neighbour would answer it directly and the
        # reply would not match the connection.
        out.append(
            f'\t\tiifname "{dev}" oifname "{dev}" ct status dnat masquerade'
        )
    if spec.gateway:
        out.append(f'\t\toifname "{ext}" snat to ip saddr map @fip_snat')
        if spec.interfaces:
            out.append(
                f'\t\toifname "{ext}" ip saddr {_set(spec.subnets)} '
                f"snat to {spec.gateway.address.ip}"
            )
    out.append("\t}")

    out += _chain("forward", "filter", "filter", "drop")
    out.append("\t\tct state established,related accept")
    out.append("\t\tct state invalid drop")
    if max_connections:
        # nf_conntrack_max is shared by every namespace of the host: one
        # router must not take it all.
        out.append(f"\t\tct state new ct count over {max_connections} drop")
    if tenants:
        for i in spec.interfaces:
            # A guest's packets leave only with a source of its own
            # subnet: a spoofed one would pass the SNAT rule untouched.
            src = f'iifname "{i.dev}" ip saddr {i.address.network}'
            if spec.gateway:
                out.append(f'\t\t{src} oifname "{ext}" accept')
            out.append(f"\t\t{src} oifname {_names(tenants)} accept")
        if spec.gateway:
            # From outside only what a floating IP let in.
            out.append(
                f'\t\tiifname "{ext}" oifname {_names(tenants)} '
                "ct status dnat accept"
            )
    out.append("\t}")

    out += _chain("input", "filter", "filter", "drop")
    # The router itself answers pings and nothing else.
    out.append("\t\tct state established,related accept")
    out.append("\t\t" + _DIGEST_RULE)
    out.append("\t\tip protocol icmp icmp type echo-request accept")
    out.append("\t}")

    out.append("}")
    text = "\n".join(out) + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return text.replace(_DIGEST_RULE, _DIGEST_RULE.format(digest))


def digest(text: str) -> str | None:
    """The digest a rendered file (or a rule's comment) carries."""
    m = _DIGEST_RE.search(text if "comment" in text else f'comment "{text}"')
    return m.group(1) if m else None


def _chain(name: str, kind: str, priority: str, policy: str) -> list[str]:
    hook = "prerouting" if name == "prerouting" else name
    return [
        f"\tchain {name} {{",
        f"\t\ttype {kind} hook {hook} priority {priority}; policy {policy};",
    ]


def _map(name: str, pairs) -> list[str]:
    out = [f"\tmap {name} {{", "\t\ttype ipv4_addr : ipv4_addr"]
    if pairs:
        elements = ", ".join(f"{k} : {v}" for k, v in sorted(pairs))
        out.append(f"\t\telements = {{ {elements} }}")
    out.append("\t}")
    return out


def _set(items) -> str:
    return "{ " + ", ".join(str(i) for i in items) + " }"


def _names(devs) -> str:
    return "{ " + ", ".join(f'"{d}"' for d in devs) + " }"
