"""A guest's port as the firewall sees it, checked before any of it reaches
a command line, and what it lets in.

The port arrives over RPC as a dict (see `Port.from_dict`); every name in it
ends up in iptables, ipset, ebtables or conntrack arguments, so each field is
checked against a strict pattern here and nowhere else.
"""

import dataclasses
import ipaddress
import json
import re
from collections.abc import Mapping

from arame.common import ids, secgroup_rules
from arame.common.secgroup_rules import Rule

# Linux interface names: at most 15 characters; no "+", which iptables
# and ebtables read as a wildcard.
_DEVICE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
_MAC_RE = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


class InvalidPort(ValueError):
    pass


def check_instance_id(value) -> str:
    if not ids.is_valid("instance", value):
        raise InvalidPort(f"not an instance id: {value!r}")
    return value


def check_group_id(value) -> str:
    if not ids.is_valid("security_group", value):
        raise InvalidPort(f"not a security group id: {value!r}")
    return value


def check_ip(value) -> str:
    try:
        ip = ipaddress.IPv4Address(value)
    except (ipaddress.AddressValueError, ValueError, TypeError):
        raise InvalidPort(f"not an IPv4 address: {value!r}") from None
    if (
        ip.is_unspecified
        or ip.is_multicast
        or ip == ipaddress.IPv4Address("255.255.255.255")
    ):
        raise InvalidPort(f"not a guest address: {value}")
    return str(ip)


def check_ips(values) -> tuple[str, ...]:
    if not isinstance(values, (list, tuple, set, frozenset)):
        raise InvalidPort(
            f"members must be a list of addresses, not {type(values).__name__}"
        )
    return tuple(
        sorted({check_ip(v) for v in values}, key=ipaddress.IPv4Address)
    )


@dataclasses.dataclass(frozen=True)
class Group:
    id: str
    rules: tuple[Rule, ...]
    # The group's revision (security_groups.revision) when the sender
    # knew it: of two versions the host keeps the newer. Not compared:
    # the same rules are the same chain.
    revision: int | None = dataclasses.field(default=None, compare=False)

    def older_than(self, other: "Group") -> bool:
        return (
            self.revision is not None
            and other.revision is not None
            and self.revision < other.revision
        )


def _key(kind: str, value):
    try:
        return (kind, json.dumps(value, sort_keys=True))
    except (TypeError, ValueError):
        return None  # not JSON: checked (and refused) without the cache


def _cached(cache: dict, kind: str, tag, value, make):
    """make() once per text (kind, tag, value) in cache. The ports of a
    refresh_host_ports batch share their groups' rule lists and member
    lists (sent once, named by each port): the same object is also looked
    up by identity, so that its text is not even dumped again. The cache
    keeps the object, so its id stays its own."""
    ident = ("obj", kind, tag, id(value))
    hit = cache.get(ident)
    if hit is not None and hit[0] is value:
        return hit[1]
    key = _key(kind, [tag, value])
    if key is None:
        return make()
    if key not in cache:
        cache[key] = make()
    cache[ident] = (value, cache[key])
    return cache[key]


def _group(gid: str, rules, revision, cache: dict) -> Group:
    if revision is not None and (
        not isinstance(revision, int)
        or isinstance(revision, bool)
        or revision < 0
    ):
        raise InvalidPort(f"{gid}: not a revision: {revision!r}")

    def make():
        try:
            parsed = tuple(secgroup_rules.from_json(rules or []))
        except secgroup_rules.RuleError as e:
            raise InvalidPort(f"{gid}: {e}") from None
        return Group(gid, parsed, revision)

    return _cached(cache, "rules", (gid, revision), rules, make)


def _members(ips, cache: dict) -> tuple[str, ...]:
    return _cached(cache, "ips", None, ips, lambda: check_ips(ips))


def parsed_groups(cache: dict, keep) -> dict:
    """The groups of a from_dict cache whose Group object is in keep, by
    their text: what a later batch may start its cache with, so that a
    group sent again unchanged is not checked again."""
    ids = {id(g) for g in keep}
    return {
        k: v
        for k, v in cache.items()
        if k[0] == "rules" and isinstance(v, Group) and id(v) in ids
    }


@dataclasses.dataclass(frozen=True)
class Port:
    instance_id: str
    device: str
    mac: str
    ip: str
    groups: tuple[Group, ...]
    # Members of the groups it belongs to or references, as given with it.
    members: Mapping[str, tuple[str, ...]] = dataclasses.field(
        default_factory=dict, compare=False
    )

    @classmethod
    def from_dict(cls, d: dict, cache: dict | None = None) -> "Port":
        """The RPC form: {"instance_id", "device", "mac", "ip",
        "security_groups": [{"id", "rules": [to_json form], "revision"}],
        "group_members": {"sg-...": ["10.0.0.5", ...]}}.

        cache: a dict shared by the ports of one batch, so that groups and
        member lists they share (the same text) are checked once, not once
        per port (50 members of 5 groups of 100 rules: 3 s, then 0.1); it
        may start with `parsed_groups` of an earlier batch."""
        if cache is None:
            cache = {}
        if not isinstance(d, dict):
            raise InvalidPort("a port must be a dict")
        device = d.get("device")
        if not isinstance(device, str) or not _DEVICE_RE.fullmatch(device):
            raise InvalidPort(f"not an interface name: {device!r}")
        mac = d.get("mac")
        if not isinstance(mac, str) or not _MAC_RE.fullmatch(mac.lower()):
            raise InvalidPort(f"not a MAC address: {mac!r}")
        if int(mac[:2], 16) & 1:
            raise InvalidPort(f"a multicast MAC cannot be a guest's: {mac}")
        groups = {}
        for g in d.get("security_groups") or []:
            if not isinstance(g, dict):
                raise InvalidPort("a security group must be a dict")
            gid = check_group_id(g.get("id"))
            groups.setdefault(
                gid, _group(gid, g.get("rules"), g.get("revision"), cache)
            )
        members = d.get("group_members") or {}
        if not isinstance(members, dict):
            raise InvalidPort("group_members must be a dict")
        port = cls(
            instance_id=check_instance_id(d.get("instance_id")),
            device=device,
            mac=mac.lower(),
            ip=check_ip(d.get("ip")),
            groups=tuple(groups.values()),
        )
        wanted = port.group_ids()
        object.__setattr__(
            port,
            "members",
            {
                check_group_id(gid): _members(ips, cache)
                for gid, ips in members.items()
                if gid in wanted
            },
        )
        return port

    def own_group_ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self.groups)

    def referenced_group_ids(self) -> tuple[str, ...]:
        seen = dict.fromkeys(
            r.group_id
            for g in self.groups
            for r in g.rules
            if r.group_id is not None
        )
        return tuple(seen)

    def group_ids(self) -> frozenset[str]:
        """Every group whose membership its chains use (one ipset each)."""
        return frozenset(self.own_group_ids() + self.referenced_group_ids())

    def allowance(self, members: Mapping[str, tuple[str, ...]]) -> frozenset:
        """What may come in, as atoms, with group references expanded
        through `members`: ("peer", ip) lets everything from ip in;
        ("rule", protocol, from, to, network) what a rule lets in.
        If a port's allowance after a change is not a superset of the one
        before, some established flows may have lost their permission."""
        return frozenset().union(
            *(group_allowance(g, members) for g in self.groups)
        )


def group_allowance(
    group: Group, members: Mapping[str, tuple[str, ...]]
) -> frozenset:
    """What one group lets into its members (Port.allowance's atoms): its
    own members, and what its rules allow."""
    atoms = {("peer", ip) for ip in members.get(group.id, ())}
    for r in group.rules:
        sources = (
            [r.cidr]
            if r.cidr is not None
            else [f"{ip}/32" for ip in members.get(r.group_id, ())]
        )
        atoms.update(
            ("rule", r.protocol, r.from_port, r.to_port, s) for s in sources
        )
    return frozenset(atoms)


def admits(
    allowance: frozenset,
    protocol: str,
    src: str,
    *,
    dport: int | None = None,
    sport: int | None = None,
    icmp_type: int | None = None,
    icmp_code: int | None = None,
) -> bool:
    """Whether a flow opened from src towards the port is allowed."""
    if protocol == "udp" and sport == 67 and dport == 68:
        return True  # DHCP answers are always let in
    addr = ipaddress.IPv4Address(src)
    for atom in allowance:
        if atom[0] == "peer":
            if atom[1] == src:
                return True
            continue
        _, proto, lo, hi, net = atom
        if proto != protocol or addr not in ipaddress.IPv4Network(net):
            continue
        if proto == "icmp":
            if lo in (-1, icmp_type) and hi in (-1, icmp_code):
                return True
        elif dport is not None and lo <= dport <= hi:
            return True
    return False
