"""Security groups in the database: membership, the account's `default`
group, and what the flows hand the agents (an instance's port specs, the
hosts that hold a group's members).

Agents hold no DB credentials: everything a host needs to filter an
instance's traffic is in `port_specs_for_instance`, resolved here.
"""

import ipaddress

import sqlalchemy as sa

from arame.common import ids
from arame.common.db import engine as db_engine
from arame.common.db import models, prepared

DEFAULT_NAME = "default"
MAX_PER_INSTANCE = 5


def ensure_default(account_id: str) -> str:
    """The id of the account's `default` group (no rules: its members reach
    each other), created on first need.

    In a transaction of its own, as quotas.ensure_row: concurrent first
    inserts of the same unique key inside a bigger InnoDB transaction
    deadlock; here the loser just reads the winner's row.
    """
    SG = models.SecurityGroup

    def existing():
        with db_engine.session() as s:
            return s.scalar(
                sa.select(SG.id).where(
                    SG.account_id == account_id, SG.name == DEFAULT_NAME
                )
            )

    gid = existing()
    if gid is not None:
        return gid
    gid = ids.generate("security_group")
    try:
        with db_engine.session(replayable=True) as s:
            now = models.utcnow()
            s.add(
                SG(
                    id=gid,
                    name=DEFAULT_NAME,
                    account_id=account_id,
                    description="default group of the account",
                    rules_text="",
                    rules=[],
                    created_at=now,
                    updated_at=now,
                )
            )
    except sa.exc.IntegrityError:
        gid = existing()  # made by a concurrent request: fine
    return gid


def referenced_groups(rules: list[dict]) -> set[str]:
    """Groups named as a source by rules in their dict form."""
    return {r["group_id"] for r in rules if r.get("group_id")}


def set_membership(session, instance_id: str, group_ids: list[str]) -> None:
    for pos, gid in enumerate(group_ids):
        session.add(
            models.InstanceSecurityGroup(
                instance_id=instance_id, security_group_id=gid, position=pos
            )
        )


def groups_by_instance(session, instance_ids) -> dict[str, list[str]]:
    """{instance_id: [group ids in the order asked]} in one query."""
    out: dict[str, list[str]] = {i: [] for i in instance_ids}
    if not out:
        return out
    for iid, gid in session.execute(
        _GROUP_IDS_BY_INSTANCE, prepared.params(ids=list(out))
    ):
        out[iid].append(gid)
    return out


def groups_for_instance(session, instance_id: str) -> list[str]:
    return groups_by_instance(session, [instance_id])[instance_id]


def _live_members(group_ids):
    I, ISG = models.Instance, models.InstanceSecurityGroup
    return (
        sa.select(ISG.security_group_id, I.id, I.host)
        .join(I, I.id == ISG.instance_id)
        .where(
            ISG.security_group_id.in_(list(group_ids)),
            I.status != "terminated",
        )
    )


def live_member_ids(session, group_id: str) -> list[str]:
    """Instances in the group that are not terminated."""
    return sorted(row.id for row in session.execute(_live_members([group_id])))


def hosts_with_members(session, group_id: str) -> dict[str, list[str]]:
    """{host: [instance ids]} of the group's placed, non-terminated members:
    where a change of its rules must be applied."""
    out: dict[str, list[str]] = {}
    for row in session.execute(
        _live_members([group_id])
        .where(models.Instance.host.is_not(None))
        .order_by(models.Instance.id)
    ):
        out.setdefault(row.host, []).append(row.id)
    return out


def groups_referencing(session, group_id: str) -> list[str]:
    """Groups whose rules name `group_id` as a source (same account only:
    references never cross accounts). When the group's members change,
    these groups' members must be refreshed too."""
    return sorted(
        gid
        for gid, rules in session.execute(
            _SAME_ACCOUNT_GROUPS, prepared.params(group=group_id)
        )
        if group_id in referenced_groups(rules)
    )


def hosts_to_tell(session, group_ids) -> set[str]:
    """The hosts holding a placed, live member of any of these groups, in
    one query; hosts of the fake hypervisor, which filters nothing, are
    left out (scale runs with hundreds of them must not pay a message per
    host per build)."""
    I, ISG, H = models.Instance, models.InstanceSecurityGroup, models.Host
    return set(
        session.scalars(
            sa.select(I.host)
            .distinct()
            .join(ISG, ISG.instance_id == I.id)
            .join(H, H.name == I.host)
            .where(
                ISG.security_group_id.in_(sorted(group_ids)),
                I.status != "terminated",
                H.hypervisor_type != "fake",
            )
        )
    )


def member_addresses(session, group_ids) -> dict[str, list[str]]:
    """{group_id: [addresses of its non-terminated members' ports]}."""
    out: dict[str, set[str]] = {g: set() for g in group_ids}
    if not out:
        return {}
    I, ISG, P = models.Instance, models.InstanceSecurityGroup, models.Port
    for gid, ip in session.execute(
        sa.select(ISG.security_group_id, P.ip_address)
        .join(I, I.id == ISG.instance_id)
        .join(P, P.instance_id == I.id)
        .where(ISG.security_group_id.in_(list(out)), I.status != "terminated")
    ):
        out[gid].add(ip)
    return {g: sorted(ips, key=ipaddress.ip_address) for g, ips in out.items()}


def port_specs_for_instance(session, instance_id: str) -> list[dict]:
    """Everything an agent needs to plug and filter each of the instance's
    NICs: the network, the address and MAC, the rules of its groups, and
    the addresses of the members of every group those rules involve.

    Three statements: the ports with their networks, the groups in the
    instance's order, their members (every build and every change of an
    instance's groups reads this)."""
    at = prepared.params(instance_id=instance_id)
    ports = session.execute(_PORTS_WITH_NETWORKS, at).all()
    if not ports:
        return []
    groups = [
        {"id": gid, "rules": list(rules), "revision": revision}
        for gid, rules, revision in session.execute(_GROUPS_IN_ORDER, at)
    ]
    involved = {g["id"] for g in groups}
    for g in groups:
        involved |= referenced_groups(g["rules"])
    members = member_addresses(session, involved)
    return [
        {
            "network": {k: p._mapping[f"net_{k}"] for k in _NETWORK_FIELDS},
            "ip": p.ip_address,
            "mac": p.mac_address,
            "hostname": p.hostname,
            "security_groups": [dict(g) for g in groups],
            "group_members": {g: list(a) for g, a in members.items()},
        }
        for p in ports
    ]


# What a port spec says of its network.
_NETWORK_FIELDS = (
    "id",
    "segmentation",
    "segment_id",
    "mtu",
    "cidr",
    "gateway",
    "dns_domain",
)
_P = models.Port.__table__
_N = models.Network.__table__
_SG = models.SecurityGroup.__table__
_ISG = models.InstanceSecurityGroup.__table__
# Built once (common/db/prepared.py).
_PORTS_WITH_NETWORKS = (
    sa.select(
        _P.c.ip_address,
        _P.c.mac_address,
        _P.c.hostname,
        *(_N.c[k].label(f"net_{k}") for k in _NETWORK_FIELDS),
    )
    .join(_N, _N.c.id == _P.c.network_id)
    .where(_P.c.instance_id == prepared.bound("instance_id"))
    .order_by(_P.c.id)
)
_GROUPS_IN_ORDER = (
    sa.select(_SG.c.id, _SG.c.rules, _SG.c.revision)
    .join(_ISG, _ISG.c.security_group_id == _SG.c.id)
    .where(_ISG.c.instance_id == prepared.bound("instance_id"))
    .order_by(_ISG.c.position)
)
_SAME_ACCOUNT_GROUPS = sa.select(_SG.c.id, _SG.c.rules).where(
    _SG.c.account_id
    == sa.select(_SG.c.account_id)
    .where(_SG.c.id == prepared.bound("group"))
    .scalar_subquery(),
    _SG.c.id != prepared.bound("group"),
)
_GROUP_IDS_BY_INSTANCE = (
    sa.select(_ISG.c.instance_id, _ISG.c.security_group_id)
    .where(_ISG.c.instance_id.in_(prepared.bound_list("ids")))
    .order_by(_ISG.c.instance_id, _ISG.c.position)
)
