"""The IPv4 filter rules of security groups, as iptables-restore text.

Pure functions: the firewall feeds their text to one `iptables-restore
--noflush`, so a change is atomic and touches only our chains. Lines are
written as iptables-save prints them back, which lets tests compare the
two.

    FORWARD  -m physdev --physdev-is-bridged -j arame-fwd   (first rule)
    INPUT    -m physdev --physdev-is-in      -j arame-out   (guest -> host)
    arame-fwd: -j arame-out, then -j arame-in
    arame-out: per port, frames from its tap -> arame-out-<instance id>
               (anti-spoofing: RETURN when the guest is itself, else DROP)
    arame-in:  per port, frames to its tap -> arame-in-<instance id>
               (its own: conntrack state, DHCP; then -j arame-sg-<group id>
               for each of its groups, which ACCEPT what the group allows;
               what none accepted: DROP)
    arame-sg-<group id>: the group's rules, once per host whatever its
               number of members there (its members through its ipset)

Every guest's outbound check runs before any guest's inbound check, so an
inbound ACCEPT (final in FORWARD) never skips the sender's anti-spoofing.
"""

import re

from arame.agents.hva.firewall import ipsets
from arame.agents.hva.firewall.port import Group, Port
from arame.common.secgroup_rules import Rule

FWD = "arame-fwd"
IN = "arame-in"
OUT = "arame-out"
FORWARD_JUMP = f"-A FORWARD -m physdev --physdev-is-bridged -j {FWD}"
INPUT_JUMP = f"-A INPUT -m physdev --physdev-is-in -j {OUT}"


def in_chain(instance_id: str) -> str:
    return f"{IN}-{instance_id}"


def out_chain(instance_id: str) -> str:
    return f"{OUT}-{instance_id}"


def _quote(comment: str) -> str:
    # Comments are built from validated ids and canonical rule text only.
    assert '"' not in comment and "\n" not in comment
    return f'"{comment}"'


def _rule_match(rule: Rule) -> str:
    parts = []
    if rule.cidr is not None and rule.cidr != "0.0.0.0/0":
        parts.append(f"-s {rule.cidr}")
    parts.append(f"-p {rule.protocol}")
    if rule.protocol == "icmp":
        if rule.from_port != -1:
            code = "" if rule.to_port == -1 else f"/{rule.to_port}"
            parts.append(f"-m icmp --icmp-type {rule.from_port}{code}")
    else:
        ports = (
            str(rule.from_port)
            if rule.from_port == rule.to_port
            else f"{rule.from_port}:{rule.to_port}"
        )
        parts.append(f"-m {rule.protocol} --dport {ports}")
    if rule.group_id is not None:
        parts.append(
            f"-m set --match-set {ipsets.set_name(rule.group_id)} src"
        )
    return " ".join(parts)


def group_chain(group_id: str) -> str:
    return f"arame-{group_id}"  # arame-sg-3k9x2m0q, 17 characters


def group_rules(group: Group) -> list[str]:
    """The rules of a group's chain (without its header): its members
    reach each other, then its rules. Every member port's in-chain jumps
    here, so a rule change rewrites this chain only."""
    c = group_chain(group.id)
    lines = [
        f"-A {c} -m set --match-set {ipsets.set_name(group.id)} src "
        f"-m comment --comment {_quote('member of ' + group.id)} -j ACCEPT"
    ]
    seen = set()
    for r in group.rules:
        match = _rule_match(r)
        if match in seen:
            continue
        seen.add(match)
        lines.append(
            f"-A {c} {match} -m comment --comment "
            f"{_quote(group.id + ' ' + r.to_text())} -j ACCEPT"
        )
    return lines


def port_rules(port: Port) -> list[str]:
    """The rules of the port's two chains (without the chain headers):
    what is the port's own (conntrack state, DHCP, anti-spoofing, the
    final DROP) and a jump to each of its groups' chains."""
    i, o = in_chain(port.instance_id), out_chain(port.instance_id)
    lines = [
        f"-A {i} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        f"-A {i} -m conntrack --ctstate INVALID -j DROP",
        f"-A {i} -p udp -m udp --sport 67 --dport 68 -j ACCEPT",
    ]
    lines += [f"-A {i} -j {group_chain(g)}" for g in port.own_group_ids()]
    lines.append(f"-A {i} -j DROP")
    lines += [
        # DHCP discover/request before the guest has an address.
        (
            f"-A {o} -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp "
            f"--sport 68 --dport 67 -m mac --mac-source {port.mac} -j RETURN"
        ),
        # No DHCP server inside a guest.
        f"-A {o} -p udp -m udp --sport 67 --dport 68 -j DROP",
        # A TCP flow whose conntrack entry was cut must not come back to
        # life from the guest's side (conntrack's loose pickup would record
        # it as opened by the guest, and the peer's packets as replies).
        (
            f"-A {o} -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN "
            f"-m conntrack --ctstate NEW -j DROP"
        ),
        f"-A {o} -s {port.ip}/32 -m mac --mac-source {port.mac} -j RETURN",
        f"-A {o} -j DROP",
    ]
    return lines


def dispatch_rules(taps: dict[str, str]) -> list[str]:
    """arame-in and arame-out for every port: instance id -> tap."""
    ordered = sorted(taps.items())
    return [
        f"-A {OUT} -m physdev --physdev-in {tap} -j {out_chain(iid)}"
        for iid, tap in ordered
    ] + [
        f"-A {IN} -m physdev --physdev-out {tap} --physdev-is-bridged "
        f"-j {in_chain(iid)}"
        for iid, tap in ordered
    ]


def render(
    taps: dict[str, str] | None,
    rewrite: list[Port] = (),
    remove: list[str] = (),
    *,
    groups: list[Group] = (),
    drop_groups: list[str] = (),
) -> str:
    """One transaction: the dispatch chains rebuilt for `taps` (every port
    that stays; None leaves them as they are), the chains of the groups
    `groups` and of the ports `rewrite` replaced, those of the ports
    `remove` and the groups `drop_groups` deleted (after the port chains
    that jumped there are flushed or rewritten). Other chains are not
    touched."""
    heads, body = [], []
    if taps is not None:
        heads += [IN, OUT]
        body += dispatch_rules(taps)
    for g in groups:
        heads.append(group_chain(g.id))
        body += group_rules(g)
    for port in rewrite:
        heads += [in_chain(port.instance_id), out_chain(port.instance_id)]
        body += port_rules(port)
    tail = []
    for iid in remove:
        # Declaring flushes; the dispatch no longer jumps there; then -X.
        heads += [in_chain(iid), out_chain(iid)]
        tail += [f"-X {in_chain(iid)}", f"-X {out_chain(iid)}"]
    for gid in drop_groups:
        heads.append(group_chain(gid))
        tail.append(f"-X {group_chain(gid)}")
    return _table(heads, body + tail)


def render_setup(
    have_chains: set[str],
    have_forward_jump: bool,
    have_input_jump: bool,
    stale_groups=(),
) -> str:
    """Base chains and the jumps from FORWARD and INPUT, leaving existing
    dispatch chains alone (flushing them would open every port); the
    chains of `stale_groups` (no port jumps there) removed."""
    heads = [FWD] + [c for c in (IN, OUT) if c not in have_chains]
    body = [f"-A {FWD} -j {OUT}", f"-A {FWD} -j {IN}"]
    if not have_forward_jump:
        body.append(FORWARD_JUMP.replace("-A FORWARD", "-I FORWARD 1"))
    if not have_input_jump:
        body.append(INPUT_JUMP.replace("-A INPUT", "-I INPUT 1"))
    for gid in sorted(stale_groups):
        heads.append(group_chain(gid))
        body.append(f"-X {group_chain(gid)}")
    return _table(heads, body)


def _table(heads: list[str], body: list[str]) -> str:
    return "".join(
        ["*filter\n"]
        + [f":{c} - [0:0]\n" for c in heads]
        + [line + "\n" for line in body]
        + ["COMMIT\n"]
    )


_ID = r"(i-[a-z0-9]{8})"
_GID = r"(sg-[a-z0-9]{8})"
_CHAIN_RE = re.compile(rf"^:({IN}|{OUT})-{_ID} ", re.MULTILINE)
_GROUP_CHAIN_RE = re.compile(rf"^:arame-{_GID} ", re.MULTILINE)
_IN_DISPATCH_RE = re.compile(
    rf"^-A {IN} -m physdev --physdev-out (\S+) .*-j {IN}-{_ID}$", re.MULTILINE
)
_SPOOF_RE = re.compile(
    rf"^-A {OUT}-{_ID} -s ([0-9.]+)/32 -m mac --mac-source (\S+) -j RETURN$",
    re.MULTILINE,
)
_JUMP_RE = re.compile(rf"^-A {IN}-{_ID} -j arame-{_GID}$", re.MULTILINE)
# Sets matched in a port's own chain: the rules of hva before group
# chains (an upgrade finds them until the port is next applied).
_SET_RE = re.compile(
    rf"^-A {IN}-{_ID} .*--match-set {ipsets.PREFIX}(\S+) src", re.MULTILINE
)
_GROUP_SET_RE = re.compile(
    rf"^-A arame-{_GID} .*--match-set {ipsets.PREFIX}(\S+) src", re.MULTILINE
)


def parse_save(text: str) -> dict:
    """What an earlier run left, from `iptables-save -t filter`:
    {"chains": {names}, "forward_jump": bool, "input_jump": bool,
     "ports": {instance id: {"tap", "ip", "mac", "groups": (group ids its
               in-chain jumps to, in order), "sets": {group ids of sets
               its in-chain matches itself}}},
     "groups": {group id: {group ids of the sets its chain matches}}}.
    A port is there when either of its chains is."""
    ports: dict[str, dict] = {}

    def port(iid):
        return ports.setdefault(
            iid,
            {
                "tap": None,
                "ip": None,
                "mac": None,
                "groups": (),
                "sets": set(),
            },
        )

    for m in _CHAIN_RE.finditer(text):
        port(m.group(2))
    for m in _IN_DISPATCH_RE.finditer(text):
        port(m.group(2))["tap"] = m.group(1)
    for m in _SPOOF_RE.finditer(text):
        port(m.group(1)).update(ip=m.group(2), mac=m.group(3))
    for m in _JUMP_RE.finditer(text):
        p = port(m.group(1))
        p["groups"] += (m.group(2),)
    for m in _SET_RE.finditer(text):
        port(m.group(1))["sets"].add(m.group(2))
    groups = {gid: set() for gid in _GROUP_CHAIN_RE.findall(text)}
    for m in _GROUP_SET_RE.finditer(text):
        groups.setdefault(m.group(1), set()).add(m.group(2))
    lines = set(text.splitlines())
    chains = {line[1:].split()[0] for line in lines if line.startswith(":")}
    return {
        "chains": chains,
        "ports": ports,
        "groups": groups,
        "forward_jump": FORWARD_JUMP in lines,
        "input_jump": INPUT_JUMP in lines,
    }
