"""A hypervisor host in a namespace: a bridge, guests on taps, the firewall.

host ns (bridge, netfilter)  -- tap a -- guest a  10.77.0.1
                             -- tap b -- guest b  10.77.0.2
                             -- tap c -- guest c  10.77.0.3
                             -- veth  -- outsider 10.77.0.100 (no port:
                                         stands for the world beyond)
"""

import dataclasses
import re

import netlab

from arame.agents.hva.firewall import Firewall


@dataclasses.dataclass
class Guest:
    key: str
    ns: str
    ip: str
    mac: str
    tap: str
    instance_id: str


@dataclasses.dataclass
class Host:
    lab: netlab.Lab
    ns: str
    bridge: str
    guests: dict[str, Guest]
    outsider: str
    fw: Firewall

    def port(self, key: str, groups: dict[str, list], members=None) -> dict:
        """The port dict of guest `key` in `groups` (id -> rules in JSON
        form); members: group id -> guest keys (or addresses)."""
        g = self.guests[key]
        return {
            "instance_id": g.instance_id,
            "device": g.tap,
            "mac": g.mac,
            "ip": g.ip,
            "security_groups": [
                {"id": gid, "rules": rules} for gid, rules in groups.items()
            ],
            "group_members": {
                gid: [self.ip(m) for m in keys]
                for gid, keys in (members or {}).items()
            },
        }

    def ip(self, key_or_ip: str) -> str:
        return (
            self.guests[key_or_ip].ip
            if key_or_ip in self.guests
            else key_or_ip
        )

    def save(self) -> str:
        """iptables-save's filter table without comments and counters."""
        out = netlab.run("iptables-save", "-t", "filter", netns=self.ns).stdout
        return "\n".join(
            re.sub(r" \[\d+:\d+\]$", "", line)
            for line in out.splitlines()
            if not line.startswith("#")
        )


def tcp(port: int, source: str = "0.0.0.0/0", to: int | None = None) -> dict:
    rule = {"protocol": "tcp", "from_port": port, "to_port": to or port}
    rule["group_id" if source.startswith("sg-") else "cidr"] = source
    return rule


def icmp(type_: int = -1, code: int = -1, cidr: str = "0.0.0.0/0") -> dict:
    return {
        "protocol": "icmp",
        "from_port": type_,
        "to_port": code,
        "cidr": cidr,
    }
