"""Reading the usage ledger: records in append order, a page at a time."""

import sqlalchemy as sa

from arame.api import pagination, policy
from arame.common.db import engine as db_engine
from arame.common.db import models


def to_dict(r: models.UsageRecord) -> dict:
    return {
        "id": r.id,
        "account_id": r.account_id,
        "resource_id": r.resource_id,
        "resource_type": r.resource_type,
        "event": r.event,
        "flavor": r.flavor,
        "vcpus": r.vcpus,
        "memory_mb": r.memory_mb,
        "size_gb": r.size_gb,
        "at": r.at,
    }


def list_usage(
    ctxt,
    *,
    account_id=None,
    start=None,
    end=None,
    limit=None,
    marker: int | None = None,
    sort: str | None = None,
) -> dict:
    """`marker` is the id of the last record read: a billing system reads
    the ledger forward from where it stopped (and needs no record there:
    the default order is by id alone)."""
    U = models.UsageRecord
    stmt = sa.select(U)
    if account_id and account_id != ctxt.account_id:
        policy.enforce(ctxt, "usage:all_accounts")
        stmt = stmt.where(U.account_id == account_id)
    elif not ctxt.is_admin or account_id:
        stmt = stmt.where(U.account_id == (account_id or ctxt.account_id))
    if start:
        stmt = stmt.where(U.at >= start)
    if end:
        stmt = stmt.where(U.at < end)
    if sort not in (None, "id"):
        with db_engine.session() as s:
            rows, nxt = pagination.page(s, stmt, U, marker, limit, sort=sort)
            return {"items": [to_dict(r) for r in rows], "next_marker": nxt}
    if marker is not None:
        stmt = stmt.where(U.id > marker)
    n = pagination.clamp_limit(limit)
    with db_engine.session() as s:
        rows = s.scalars(stmt.order_by(U.id).limit(n + 1)).all()
    more = len(rows) > n
    rows = rows[:n]
    return {
        "items": [to_dict(r) for r in rows],
        "next_marker": rows[-1].id if more and rows else None,
    }
