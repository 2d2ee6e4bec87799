"""Cutting established flows that a change no longer allows.

Rules only decide a flow's first packet; afterwards conntrack's ESTABLISHED
lets the rest through. So when a port's allowance shrinks (a rule removed,
a member gone), every tracked flow towards the guest is checked against
what is allowed now, and the ones that are not are deleted: their next
packet is judged by the rules again and dropped. Flows still allowed are
left alone, so shrinking one rule never disturbs another's connections.
"""

import dataclasses
import re

from arame.agents.hva.firewall import port as port_mod
from arame.common import runner

_FIELD_RE = re.compile(r"\b(src|dst|sport|dport|type|code)=(\S+)")


@dataclasses.dataclass(frozen=True)
class Flow:
    """A tracked flow, in the direction it was opened."""

    protocol: str
    src: str
    dst: str
    sport: int | None = None
    dport: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None

    def key(self) -> tuple:
        """What deciding and deleting need: flows that share it share the
        verdict, and one `conntrack -D` removes them all."""
        if self.protocol == "icmp":
            return (self.protocol, self.src, self.icmp_type, self.icmp_code)
        # The source port matters only to the DHCP exception (67 -> 68).
        return (
            self.protocol,
            self.src,
            self.sport if self.dport == 68 else None,
            self.dport,
        )


def parse(text: str) -> list[Flow]:
    """Flows from `conntrack -L` output (tcp, udp, icmp; first tuple =
    original direction)."""
    flows = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] not in ("tcp", "udp", "icmp"):
            continue
        fields: dict[str, str] = {}
        for name, value in _FIELD_RE.findall(line):
            fields.setdefault(name, value)  # the original tuple comes first
        if "src" not in fields or "dst" not in fields:
            continue
        num = {
            k: int(v)
            for k, v in fields.items()
            if k in ("sport", "dport", "type", "code") and v.isdigit()
        }
        flows.append(
            Flow(
                words[0],
                fields["src"],
                fields["dst"],
                num.get("sport"),
                num.get("dport"),
                num.get("type"),
                num.get("code"),
            )
        )
    return flows


def disallowed(flows: list[Flow], ip: str, allowance: frozenset) -> set:
    """Keys of the flows towards ip that allowance does not admit."""
    keys = set()
    for f in flows:
        if f.dst != ip:
            continue
        if not port_mod.admits(
            allowance,
            f.protocol,
            f.src,
            dport=f.dport,
            sport=f.sport,
            icmp_type=f.icmp_type,
            icmp_code=f.icmp_code,
        ):
            keys.add(f.key())
    return keys


def delete_args(ip: str, key: tuple) -> list[str]:
    proto, src = key[0], key[1]
    args = ["conntrack", "-D", "-p", proto, "-s", src, "-d", ip]
    if proto == "icmp":
        if key[2] is not None:
            args += ["--icmp-type", str(key[2])]
        if key[3] is not None:
            args += ["--icmp-code", str(key[3])]
    else:
        if key[2] is not None:
            args += ["--sport", str(key[2])]
        if key[3] is not None:
            args += ["--dport", str(key[3])]
    return args


def cut(ip: str, allowance: frozenset, netns: str | None) -> int:
    """Delete the flows towards ip that allowance no longer admits; how
    many verdict groups were cut."""
    return cut_many([(ip, allowance)], netns)


def cut_many(targets, netns: str | None) -> int:
    """cut() for several (ip, allowance) at once: a batch of ports reads
    the table once (one `conntrack -L` of every flow, filtered here)
    rather than once per port; each list is a scan of the whole table in
    the kernel anyway. How many verdict groups were cut."""
    targets = list(targets)
    if not targets:
        return 0
    args = ["conntrack", "-L"]
    if len(targets) == 1:
        args += ["-d", targets[0][0]]
    out = runner.run(args, netns=netns, timeout=30, ok_codes=(0, 1)).stdout
    flows = parse(out)
    cuts = 0
    for ip, allowance in targets:
        keys = disallowed(flows, ip, allowance)
        for key in sorted(keys, key=str):
            # Exit 1: the flow ended on its own meanwhile.
            runner.run(
                delete_args(ip, key), netns=netns, timeout=30, ok_codes=(0, 1)
            )
        cuts += len(keys)
    return cuts
