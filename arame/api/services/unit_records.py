"""Reading unit groups and units: finding one by id or name, and the
answers with their nodes and derived states (few queries for a page)."""

import sqlalchemy as sa

from arame.api.lookup import load_owned
from arame.api.services import unit_state
from arame.common import exceptions, ids
from arame.common.db import models

G = models.UnitGroup
U = models.Unit
I = models.Instance
P = models.Port


def find_group(s, ctxt, ref: str, rule: str) -> models.UnitGroup:
    """By id, else by name in the caller's account: a handle is never
    lost to a timed-out client."""
    if ids.is_valid("unit_group", ref):
        return load_owned(s, ctxt, G, "unit_group", ref, rule)
    row = s.scalar(
        sa.select(G).where(G.account_id == ctxt.account_id, G.name == ref)
    )
    if row is None:
        raise exceptions.NotFound(f"unit group {ref} not found")
    return load_owned(s, ctxt, G, "unit_group", row.id, rule)


def find_unit(
    s, ctxt, ref: str, rule: str, group: str | None = None
) -> models.Unit:
    """By id; by name within `group` (id or name); or by a name unique
    among the caller's groups (409 listing the groups if not)."""
    if ids.is_valid("unit", ref):
        return load_owned(s, ctxt, U, "unit", ref, rule)
    stmt = sa.select(U).where(U.account_id == ctxt.account_id, U.name == ref)
    if group is not None:
        g = find_group(s, ctxt, group, rule)
        stmt = stmt.where(U.unit_group_id == g.id)
    rows = s.scalars(stmt.order_by(U.id)).all()
    if not rows:
        where = f" in unit group {group}" if group else ""
        raise exceptions.NotFound(f"unit {ref} not found{where}")
    if len(rows) > 1:
        raise exceptions.Conflict(
            f"unit name {ref} is in several unit groups: give the group "
            "(?unit_group=) or the unit's id",
            candidates=[r.id for r in rows],
        )
    return load_owned(s, ctxt, U, "unit", rows[0].id, rule)


def live_nodes(s, unit_ids: list[str]) -> dict[str, list[models.Instance]]:
    """The nodes of each unit that are not terminated, oldest first."""
    out: dict[str, list[models.Instance]] = {u: [] for u in unit_ids}
    if unit_ids:
        for inst in s.scalars(
            sa.select(I)
            .where(I.unit_id.in_(unit_ids), I.status != "terminated")
            .order_by(I.created_at, I.id)
        ):
            out[inst.unit_id].append(inst)
    return out


def _addresses(s, instance_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in instance_ids}
    if instance_ids:
        for iid, ip in s.execute(
            sa.select(P.instance_id, P.ip_address)
            .where(P.instance_id.in_(instance_ids))
            .order_by(P.id)
        ):
            out[iid].append(ip)
    return out


def node_dict(inst: models.Instance, addresses: list[str]) -> dict:
    return {
        "id": inst.id,
        "name": inst.name,
        "status": inst.status,
        "status_reason": inst.status_reason,
        "power_state": inst.power_state,
        "host": inst.host,
        "ip_address": addresses[0] if addresses else None,
        "addresses": addresses,
        "created_at": inst.created_at,
    }


def unit_dicts(s, units: list[models.Unit]) -> list[dict]:
    nodes = live_nodes(s, [u.id for u in units])
    addrs = _addresses(s, [i.id for ns in nodes.values() for i in ns])
    group_names = dict(
        s.execute(
            sa.select(G.id, G.name).where(
                G.id.in_({u.unit_group_id for u in units})
            )
        ).all()
    )
    out = []
    for u in units:
        ns = nodes[u.id]
        out.append(
            {
                "id": u.id,
                "name": u.name,
                "unit_group": u.unit_group_id,
                "unit_group_name": group_names.get(u.unit_group_id, ""),
                "account_id": u.account_id,
                "spec": u.spec,
                "state": unit_state.unit_state(
                    u.status, [i.status for i in ns]
                ),
                "node_count": len(ns),
                "nodes": [node_dict(i, addrs[i.id]) for i in ns],
                "errors": [
                    {
                        "node_id": i.id,
                        "name": i.name,
                        "reason": i.status_reason,
                    }
                    for i in ns
                    if i.status == "error"
                ],
                "created_at": u.created_at,
                "updated_at": u.updated_at,
            }
        )
    return out


def group_dicts(s, groups: list[models.UnitGroup]) -> list[dict]:
    gids = [g.id for g in groups]
    units = (
        s.scalars(
            sa.select(U).where(U.unit_group_id.in_(gids)).order_by(U.name)
        ).all()
        if gids
        else []
    )
    nodes = live_nodes(s, [u.id for u in units])
    per_group: dict[str, list[models.Unit]] = {g: [] for g in gids}
    for u in units:
        per_group[u.unit_group_id].append(u)
    out = []
    for g in groups:
        us = per_group[g.id]
        out.append(
            {
                "id": g.id,
                "name": g.name,
                "account_id": g.account_id,
                "state": unit_state.group_state(
                    g.status,
                    [
                        unit_state.unit_state(
                            u.status, [i.status for i in nodes[u.id]]
                        )
                        for u in us
                    ],
                ),
                "units": [u.id for u in us],
                "node_count": sum(len(nodes[u.id]) for u in us),
                "created_at": g.created_at,
                "updated_at": g.updated_at,
            }
        )
    return out
