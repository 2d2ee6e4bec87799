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
               (ACCEPT what its groups allow, else DROP)

Every guest's outbound check runs before any guest's inbound check, so an
inbound ACCEPT (final in FORWARD) never skips the sender's anti-spoofing.
"""

import re

from arame.agents.hva.firewall import ipsets
from arame.agents.hva.firewall.port import Port
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


def port_rules(port: Port, memo: dict | None = None) -> list[str]:
    """The rules of the port's two chains (without the chain headers).
    memo: shared by the ports of one render, so that a group object they
    share (a batch's ports share them) is formatted once."""
    i, o = in_chain(port.instance_id), out_chain(port.instance_id)
    lines = [
        f"-A {i} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        f"-A {i} -m conntrack --ctstate INVALID -j DROP",
        f"-A {i} -p udp -m udp --sport 67 --dport 68 -j ACCEPT",
    ]
    for gid in port.own_group_ids():
        lines.append(
            f"-A {i} -m set --match-set {ipsets.set_name(gid)} src "
            f"-m comment --comment {_quote('member of ' + gid)} "
            f"-j ACCEPT"
        )
    seen = set()
    for g in port.groups:
        if memo is None or id(g) not in memo:
            text = tuple(
                (
                    _rule_match(r),
                    f"-m comment --comment "
                    f"{_quote(g.id + ' ' + r.to_text())} -j ACCEPT",
                )
                for r in g.rules
            )
            if memo is None:
                memo = {}
            memo[id(g)] = (g, text)  # g kept alive: its id stays its own
        for match, rest in memo[id(g)][1]:
            if match in seen:
                continue
            seen.add(match)
            lines.append(f"-A {i} {match} {rest}")
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
    taps: dict[str, str], rewrite: list[Port] = (), remove: list[str] = ()
) -> str:
    """One transaction: the dispatch chains rebuilt for `taps` (every port
    that stays), the chains of `rewrite` replaced and those of `remove`
    deleted. Chains of other ports are not touched."""
    heads = [IN, OUT]
    body = dispatch_rules(taps)
    memo: dict = {}
    for port in rewrite:
        heads += [in_chain(port.instance_id), out_chain(port.instance_id)]
        body += port_rules(port, memo)
    tail = []
    for iid in remove:
        # Declaring flushes; the dispatch no longer jumps there; then -X.
        heads += [in_chain(iid), out_chain(iid)]
        tail += [f"-X {in_chain(iid)}", f"-X {out_chain(iid)}"]
    return _table(heads, body + tail)


def render_setup(
    have_chains: set[str], have_forward_jump: bool, have_input_jump: bool
) -> str:
    """Base chains and the jumps from FORWARD and INPUT, leaving existing
    dispatch chains alone (flushing them would open every port)."""
    heads = [FWD] + [c for c in (IN, OUT) if c not in have_chains]
    body = [f"-A {FWD} -j {OUT}", f"-A {FWD} -j {IN}"]
    if not have_forward_jump:
        body.append(FORWARD_JUMP.replace("-A FORWARD", "-I FORWARD 1"))
    if not have_input_jump:
        body.append(INPUT_JUMP.replace("-A INPUT", "-I INPUT 1"))
    return _table(heads, body)


def _table(heads: list[str], body: list[str]) -> str:
    return "".join(
        ["*filter\n"]
        + [f":{c} - [0:0]\n" for c in heads]
        + [line + "\n" for line in body]
        + ["COMMIT\n"]
    )


_ID = r"(i-[a-z0-9]{8})"
_CHAIN_RE = re.compile(rf"^:({IN}|{OUT})-{_ID} ", re.MULTILINE)
_IN_DISPATCH_RE = re.compile(
    rf"^-A {IN} -m physdev --physdev-out (\S+) .*-j {IN}-{_ID}$", re.MULTILINE
)
_SPOOF_RE = re.compile(
    rf"^-A {OUT}-{_ID} -s ([0-9.]+)/32 -m mac --mac-source (\S+) -j RETURN$",
    re.MULTILINE,
)
_SET_RE = re.compile(
    rf"^-A {IN}-{_ID} .*--match-set {ipsets.PREFIX}(\S+) src", re.MULTILINE
)


def parse_save(text: str) -> dict:
    """What an earlier run left, from `iptables-save -t filter`:
    {"chains": {names}, "forward_jump": bool, "input_jump": bool,
     "ports": {instance id: {"tap", "ip", "mac", "groups": set}}}.
    A port is there when either of its chains is."""
    ports: dict[str, dict] = {}

    def port(iid):
        return ports.setdefault(
            iid, {"tap": None, "ip": None, "mac": None, "groups": set()}
        )

    for m in _CHAIN_RE.finditer(text):
        port(m.group(2))
    for m in _IN_DISPATCH_RE.finditer(text):
        port(m.group(2))["tap"] = m.group(1)
    for m in _SPOOF_RE.finditer(text):
        port(m.group(1)).update(ip=m.group(2), mac=m.group(3))
    for m in _SET_RE.finditer(text):
        port(m.group(1))["groups"].add(m.group(2))
    lines = set(text.splitlines())
    chains = {line[1:].split()[0] for line in lines if line.startswith(":")}
    return {
        "chains": chains,
        "ports": ports,
        "forward_jump": FORWARD_JUMP in lines,
        "input_jump": INPUT_JUMP in lines,
    }
