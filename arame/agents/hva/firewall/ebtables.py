"""Layer-2 anti-spoofing: what iptables does not see.

iptables filters IPv4 only. ARP and every other ethertype pass beside it, so
a guest could still poison its neighbours' ARP caches with another address,
or reach them over IPv6 link-local addresses, which no security group rule
can express. Per port, on the bridge (ebtables, nft backend, one
`ebtables-restore --noflush` transaction):

    FORWARD, INPUT -j arame-l2
    arame-l2: frames from a tap -> arame-l2-<instance id>;
              IPv6 towards a tap is dropped
    arame-l2-<id>: drop a foreign source MAC, ARP that claims another
              MAC or address (0.0.0.0 is allowed: address probes), IPv6

Its text depends only on each port's tap, MAC and address, so it is
rewritten only when those change.
"""

import re

from arame.agents.hva.firewall.port import Port

L2 = "arame-l2"
FORWARD_JUMP = f"-A FORWARD -j {L2}"
INPUT_JUMP = f"-A INPUT -j {L2}"


def port_chain(instance_id: str) -> str:
    return f"{L2}-{instance_id}"


def port_rules(port: Port) -> list[str]:
    c = port_chain(port.instance_id)
    return [
        f"-A {c} -s ! {port.mac} -j DROP",
        f"-A {c} -p ARP --arp-mac-src ! {port.mac} -j DROP",
        f"-A {c} -p ARP --arp-ip-src {port.ip} -j RETURN",
        f"-A {c} -p ARP --arp-ip-src 0.0.0.0 -j RETURN",
        f"-A {c} -p ARP -j DROP",
        f"-A {c} -p IPv6 -j DROP",
    ]


def dispatch_rules(taps: dict[str, str]) -> list[str]:
    ordered = sorted(taps.items())
    return [
        f"-A {L2} -i {tap} -j {port_chain(iid)}" for iid, tap in ordered
    ] + [f"-A {L2} -p IPv6 -o {tap} -j DROP" for _, tap in ordered]


def render(
    taps: dict[str, str],
    rewrite: list[Port] = (),
    remove: list[str] = (),
    *,
    forward_jump: bool = True,
    input_jump: bool = True,
) -> str:
    """Like iptables.render; the jumps from FORWARD and INPUT are added
    when the caller says they are missing."""
    heads = [L2]
    body = dispatch_rules(taps)
    for port in rewrite:
        heads.append(port_chain(port.instance_id))
        body += port_rules(port)
    for iid in remove:
        heads.append(port_chain(iid))
        body.append(f"-X {port_chain(iid)}")
    if not forward_jump:
        body.append(FORWARD_JUMP.replace("-A FORWARD", "-I FORWARD 1"))
    if not input_jump:
        body.append(INPUT_JUMP.replace("-A INPUT", "-I INPUT 1"))
    return "".join(
        ["*filter\n"]
        + [f":{c} RETURN\n" for c in heads]
        + [line + "\n" for line in body]
        + ["COMMIT\n"]
    )


_CHAIN_RE = re.compile(rf"^:{L2}-(i-[a-z0-9]{{8}}) ", re.MULTILINE)


def parse_save(text: str) -> dict:
    """{"ports": {instance ids with a chain}, "forward_jump", "input_jump"}
    from `ebtables-save`."""
    lines = set(text.splitlines())
    return {
        "ports": set(_CHAIN_RE.findall(text)),
        "forward_jump": FORWARD_JUMP in lines,
        "input_jump": INPUT_JUMP in lines,
    }
