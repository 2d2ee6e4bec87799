"""IP address management: a network's address plan, its segment id, and
which instance holds which address and MAC.

Allocation is safe with many API processes on SQLite or MariaDB without a
table lock: allocations on one network take turns on the network's row
(`lock_network`), and a port row's unique keys (network + address, MAC)
stay the last word. Each candidate is inserted under a savepoint; a
duplicate-key error (a MAC taken on another network, a writer that skipped
the row lock) makes the next attempt try another candidate. Candidates are
drawn at random from the ranges and checked in one indexed query, so a big,
sparse network costs the same as a small one; only a dense network falls
back to reading its used addresses.

Addresses are kept as strings in their canonical form, so the schema takes
IPv6 when the plan code below learns it.
"""

import dataclasses
import ipaddress
import itertools
import random

import sqlalchemy as sa

from arame.common import exceptions, routing
from arame.common.conf import CONF
from arame.common.db import models

# os.urandom-backed: forked API workers must not draw the same sequence.
_rng = random.SystemRandom()

# Per allocation: insert attempts before giving up a race, and random
# candidates checked per attempt before reading the network's used set.
ATTEMPTS = 32
CANDIDATES = 16
SEGMENT_LIMITS = {"vxlan": (1, 16777215), "vlan": (1, 4094)}
MAC_PREFIX = "52:54:00"


@dataclasses.dataclass(frozen=True)
class Plan:
    ip_version: int
    cidr: str
    gateway: str
    dhcp_ranges: list[list[str]]
    # Where dnsmasq listens; None: on the gateway (see make_plan).
    dhcp_address: str | None = None


# -- address plans ---------------------------------------------------------


def _address(value: str, field: str):
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise exceptions.Invalid(
            f"{field}: {value!r} is not an IP address", field=field
        ) from None


def make_plan(
    cidr: str,
    gateway: str | None = None,
    dhcp_ranges: list | None = None,
    dhcp: bool = True,
) -> Plan:
    """Check and complete a network's address plan (422 naming the field).

    The gateway defaults to the first host. The gateway belongs to the
    network's router, so dnsmasq gets an address of its own (`dhcp`;
    an external network has no DHCP): the highest host address that is
    not the gateway and outside every given range; with no ranges given,
    the last host, and the ranges are every host address but those two.
    No such address: None, and dnsmasq stays on the gateway.
    """
    if "/" not in cidr:
        raise exceptions.Invalid(
            f"cidr: {cidr!r} needs a prefix length (e.g. 10.0.0.0/24)",
            field="cidr",
        )
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as e:
        raise exceptions.Invalid(f"cidr: {e}", field="cidr") from None
    if net.version != 4:
        raise exceptions.Invalid(
            "cidr: IPv6 networks are not supported yet", field="cidr"
        )
    lo, hi = CONF.network.min_prefix_length, CONF.network.max_prefix_length
    if not lo <= net.prefixlen <= hi:
        raise exceptions.Invalid(
            f"cidr: prefix length /{net.prefixlen} is outside /{lo}../{hi}",
            field="cidr",
            min_prefix_length=lo,
            max_prefix_length=hi,
        )
    first, last = int(net.network_address) + 1, int(net.broadcast_address) - 1

    def host(value: str, field: str) -> int:
        a = _address(value, field)
        if a.version != net.version or a not in net:
            raise exceptions.Invalid(
                f"{field}: {value} is outside {net}", field=field
            )
        if not first <= int(a) <= last:
            raise exceptions.Invalid(
                f"{field}: {value} is the network or "
                f"broadcast address of {net}",
                field=field,
            )
        return int(a)

    gw = host(gateway, "gateway") if gateway is not None else first
    dhcp_at: int | None = None
    if dhcp_ranges is None:
        if dhcp:
            dhcp_at = last if last != gw else last - 1
            if dhcp_at < first:
                dhcp_at = None
        out = {gw, dhcp_at}
        spans = []
        start = first
        for cut in sorted(i for i in out if i is not None):
            if start <= cut - 1:
                spans.append((start, cut - 1))
            start = cut + 1
        if start <= last:
            spans.append((start, last))
    else:
        spans = []
        for start, end in dhcp_ranges:
            s, e = host(start, "dhcp_ranges"), host(end, "dhcp_ranges")
            if s > e:
                raise exceptions.Invalid(
                    f"dhcp_ranges: {start} comes after {end}",
                    field="dhcp_ranges",
                )
            if s <= gw <= e:
                raise exceptions.Invalid(
                    f"dhcp_ranges: {start}-{end} contains the gateway "
                    f"{ipaddress.ip_address(gw)}",
                    field="dhcp_ranges",
                )
            spans.append((s, e))
        spans.sort()
        for (_, e1), (s2, e2) in itertools.pairwise(spans):
            if s2 <= e1:
                raise exceptions.Invalid(
                    f"dhcp_ranges: {ipaddress.ip_address(s2)}-"
                    f"{ipaddress.ip_address(e2)} overlaps another range",
                    field="dhcp_ranges",
                )
        if dhcp:
            dhcp_at = _highest_outside(first, last, gw, spans)
    if not spans:
        raise exceptions.Invalid(
            "dhcp_ranges: no address left to hand out", field="dhcp_ranges"
        )
    return Plan(
        ip_version=net.version,
        cidr=str(net),
        gateway=str(ipaddress.ip_address(gw)),
        dhcp_ranges=[
            [str(ipaddress.ip_address(s)), str(ipaddress.ip_address(e))]
            for s, e in spans
        ],
        dhcp_address=(
            str(ipaddress.ip_address(dhcp_at)) if dhcp_at is not None else None
        ),
    )


def _highest_outside(
    first: int, last: int, gw: int, spans: list[tuple[int, int]]
) -> int | None:
    """The highest host address in first..last that is neither the
    gateway nor inside a span (spans sorted, not overlapping)."""
    candidate = last
    while candidate >= first:
        if candidate == gw:
            candidate -= 1
            continue
        if any(s <= candidate <= e for s, e in spans):
            candidate = min(s for s, e in spans if s <= candidate <= e) - 1
            continue
        return candidate
    return None


def _spans(network: models.Network) -> list[tuple[int, int]]:
    return [
        (int(ipaddress.ip_address(s)), int(ipaddress.ip_address(e)))
        for s, e in network.dhcp_ranges
    ]


def size(network: models.Network) -> int:
    """How many addresses the network can hand out."""
    return sum(e - s + 1 for s, e in _spans(network))


# -- segment ids -----------------------------------------------------------


def auto_segment_range(segmentation: str) -> tuple[int, int]:
    if segmentation == "vxlan":
        return CONF.network.vxlan_vni_min, CONF.network.vxlan_vni_max
    return CONF.network.vlan_id_min, CONF.network.vlan_id_max


def default_mtu(segmentation: str) -> int:
    return (
        CONF.network.vxlan_mtu
        if segmentation == "vxlan"
        else CONF.network.vlan_mtu
    )


def pick_segment_id(session, segmentation: str) -> int:
    """A segment id no network uses now (the caller's insert still races:
    UNIQUE(segmentation, segment_id) settles it, and it asks again)."""
    lo, hi = auto_segment_range(segmentation)
    N = models.Network
    used = sa.select(N.segment_id).where(N.segmentation == segmentation)
    picks = {_rng.randint(lo, hi) for _ in range(CANDIDATES)}
    taken = set(session.scalars(used.where(N.segment_id.in_(picks))))
    free = sorted(picks - taken)
    if free:
        return _rng.choice(free)
    taken = set(session.scalars(used.where(N.segment_id.between(lo, hi))))
    for candidate in range(lo, hi + 1):
        if candidate not in taken:
            return candidate
    raise exceptions.Conflict(
        f"no free {segmentation} segment id in {lo}..{hi}",
        segmentation=segmentation,
    )


# -- ports -----------------------------------------------------------------


def random_mac() -> str:
    """A locally administered MAC in QEMU's 52:54:00 prefix."""
    tail = _rng.getrandbits(24)
    return MAC_PREFIX + "".join(
        f":{(tail >> s) & 0xFF:02x}" for s in (16, 8, 0)
    )


def _ip_taken(session, network_id: str, ip: str) -> bool:
    P = models.Port
    return (
        session.scalar(
            sa.select(P.id).where(
                P.network_id == network_id, P.ip_address == ip
            )
        )
        is not None
    )


def _mac_taken(session, mac: str) -> bool:
    P = models.Port
    return (
        session.scalar(sa.select(P.id).where(P.mac_address == mac)) is not None
    )


def check_fixed_address(network: models.Network, value: str) -> str:
    """The canonical form of a requested address, or 422 if the network
    cannot hand it out."""
    a = _address(value, "ip_address")
    net = ipaddress.ip_network(network.cidr)
    if a.version != net.version or a not in net:
        raise exceptions.Invalid(
            f"ip_address: {value} is outside "
            f"{network.cidr} of network {network.id}",
            field="ip_address",
        )
    if str(a) == network.gateway:
        raise exceptions.Invalid(
            f"ip_address: {value} is the gateway of network {network.id}",
            field="ip_address",
        )
    if network.dhcp_address is not None and str(a) == network.dhcp_address:
        raise exceptions.Invalid(
            f"ip_address: {value} is the DHCP server's address of network "
            f"{network.id}",
            field="ip_address",
        )
    if not any(s <= int(a) <= e for s, e in _spans(network)):
        raise exceptions.Invalid(
            f"ip_address: {value} is outside the DHCP ranges of network "
            f"{network.id}",
            field="ip_address",
        )
    return str(a)


def _no_free(network: models.Network):
    return exceptions.Conflict(
        f"network {network.id} has no free address", network_id=network.id
    )


def _free_candidate(session, network: models.Network) -> str:
    P = models.Port
    return free_address(
        session, network, P.ip_address, P.network_id == network.id
    )


def in_ranges(network: models.Network, address: str) -> bool:
    """Whether the network hands out `address` (canonical form)."""
    a = int(ipaddress.ip_address(address))
    return any(s <= a <= e for s, e in _spans(network))


def free_address(session, network: models.Network, column, scope) -> str:
    """An address of the network's ranges that no row of `column` (where
    `scope`) holds: random candidates checked in one query, else the
    first free ones of a scan; 409 if there is none. The caller's insert
    still races (its unique key settles it)."""
    spans = _spans(network)
    total = sum(e - s + 1 for s, e in spans)

    def nth(k: int) -> int:
        for s, e in spans:
            if k <= e - s:
                return s + k
            k -= e - s + 1
        raise AssertionError("index past the ranges")

    used = sa.select(column).where(scope)
    picks = {
        str(ipaddress.ip_address(nth(_rng.randrange(total))))
        for _ in range(min(CANDIDATES, total))
    }
    free = sorted(picks - set(session.scalars(used.where(column.in_(picks)))))
    if free:
        return _rng.choice(free)
    # Dense: read what is used and take one of the first free addresses.
    taken = {int(ipaddress.ip_address(a)) for a in session.scalars(used)}
    found = list(
        itertools.islice(
            (i for s, e in spans for i in range(s, e + 1) if i not in taken),
            CANDIDATES,
        )
    )
    if not found:
        raise _no_free(network)
    return str(ipaddress.ip_address(_rng.choice(found)))


def lock_network(session, network_id: str) -> None:
    """Hold the network's row until the transaction ends (422 if it is
    gone): allocations on one network take turns, other networks run on.

    Without it, InnoDB deadlocks parallel allocators of a busy network:
    each duplicate-key error leaves a shared next-key lock on the index,
    and two losers then wait on each other's gaps for their next
    candidates. The row is held only until the creating transaction
    commits; on SQLite (one writer at a time) this is a plain read.
    """
    N = models.Network
    if (
        session.scalar(
            sa.select(N.id).where(N.id == network_id).with_for_update()
        )
        is None
    ):
        raise exceptions.Invalid(
            f"network: unknown network {network_id!r}", field="network"
        )


_INSERT_PORT = sa.insert(models.Port.__table__)


def allocate(
    session,
    network: models.Network,
    instance_id: str,
    hostname: str,
    ip_address: str | None = None,
) -> models.Port:
    """Give the instance an address (the one asked, or a free one) and a MAC
    on `network`, in the caller's transaction.

    409 if the asked address is taken or the network is full; 422 if the
    asked address is not one the network hands out. The instance row must
    be flushed already (the port points at it).
    """
    fixed = (
        check_fixed_address(network, ip_address)
        if ip_address is not None
        else None
    )
    lock_network(session, network.id)
    if fixed is not None and _ip_taken(session, network.id, fixed):
        raise _taken(network, fixed)
    for _ in range(ATTEMPTS):
        ip = fixed or _free_candidate(session, network)
        values = {
            "network_id": network.id,
            "instance_id": instance_id,
            "ip_address": ip,
            "mac_address": random_mac(),
            "hostname": hostname,
            "created_at": models.utcnow(),
        }
        try:
            # One INSERT, no savepoint around it: a unique key's refusal
            # undoes that statement only, on InnoDB as on SQLite, and the
            # caller's transaction goes on (two round trips fewer per
            # create than SAVEPOINT/RELEASE).
            pk = session.execute(_INSERT_PORT, values).inserted_primary_key
        except sa.exc.IntegrityError:
            # The MAC is in use on some network (rarely), or a writer
            # outside lock_network took the address: try other candidates.
            if _ip_taken(session, network.id, ip):
                if fixed is not None:
                    raise _taken(network, fixed) from None
            elif not _mac_taken(session, values["mac_address"]):
                raise  # not a lost race: a bug (e.g. instance not flushed)
            continue
        # What the caller shows (port_dict); the row is written already.
        return models.Port(id=pk[0], **values)
    raise exceptions.Conflict(
        f"network {network.id}: no address could be "
        "reserved (too many concurrent requests); "
        "try again",
        network_id=network.id,
    )


def _taken(network: models.Network, ip: str):
    return exceptions.Conflict(
        f"address {ip} is already in use on network {network.id}",
        network_id=network.id,
        ip_address=ip,
    )


def release_instance(session, instance_id: str) -> int:
    """Free every address of the instance; how many (0 the second time).

    A floating IP still associated with one of its ports loses the
    association here (the addresses stay allocated): the delete flow
    asks routing.disassociate_instance first, to know which routers to
    apply again.
    """
    routing.disassociate_instance(session, instance_id)
    return session.execute(
        sa.delete(models.Port)
        .where(models.Port.instance_id == instance_id)
        .execution_options(synchronize_session=False)
    ).rowcount


def ports_for_instance(session, instance_id: str) -> list[models.Port]:
    P = models.Port
    return list(
        session.scalars(
            sa.select(P).where(P.instance_id == instance_id).order_by(P.id)
        )
    )


def ports_for_network(session, network_id: str) -> list[models.Port]:
    P = models.Port
    return list(
        session.scalars(
            sa.select(P).where(P.network_id == network_id).order_by(P.id)
        )
    )


def port_dict(port: models.Port) -> dict:
    """A port as an instance shows it (the REST reference's `addresses`)."""
    return {
        "network_id": port.network_id,
        "ip_address": port.ip_address,
        "mac_address": port.mac_address,
        "hostname": port.hostname,
    }
