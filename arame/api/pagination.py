"""Marker pagination (API.md): `?limit=&marker=<id>` -> items + next_marker.

Ordered by (created_at, id), ascending or descending; the marker is the id of
the last item of the previous page.
"""


import sqlalchemy as sa

from arame.common import exceptions
from arame.common.conf import CONF
from arame.common.db import engine as db_engine


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return CONF.api.default_limit
    return max(1, min(limit, CONF.api.max_limit))


def name_filter(column, pattern: str):
    """`name=web*`: shell-style wildcards, translated to LIKE."""
    if "*" not in pattern and "?" not in pattern:
        return column == pattern
    like = (pattern.replace("\\", "\\\\").replace("%", "\\%")
            .replace("_", "\\_").replace("*", "%").replace("?", "_"))
    return column.like(like, escape="\\")


def page(session, stmt, model, marker: str | None, limit: int | None,
         descending: bool = False):
    limit = clamp_limit(limit)
    order = (model.created_at.desc(), model.id.desc()) if descending else \
        (model.created_at.asc(), model.id.asc())
    if marker:
        # Looked up within the caller's own filters: a marker from another
        # account is as unknown as one that does not exist.
        m = session.execute(stmt.with_only_columns(model.created_at, model.id)
                            .where(model.id == marker)).first()
        if m is None:
            raise exceptions.BadRequest(f"unknown marker {marker!r}")
        after = (sa.tuple_(model.created_at, model.id) <
                 sa.tuple_(sa.literal(m.created_at), sa.literal(m.id))) \
            if descending else \
            (sa.tuple_(model.created_at, model.id) >
             sa.tuple_(sa.literal(m.created_at), sa.literal(m.id)))
        stmt = stmt.where(after)
    rows = session.scalars(stmt.order_by(*order).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def scoped_page(ctxt, stmt, model, to_dict, *, account_column,
                name_column=None, name=None, marker=None, limit=None) -> dict:
    """A page of `stmt` as API.md lists it: the caller's own account unless
    admin, `name=` as a glob, marker pagination."""
    if not ctxt.is_admin:
        stmt = stmt.where(account_column == ctxt.account_id)
    if name and name_column is not None:
        stmt = stmt.where(name_filter(name_column, name))
    with db_engine.session() as s:
        rows, nxt = page(s, stmt, model, marker, limit)
        return {"items": [to_dict(r) for r in rows], "next_marker": nxt}


__all__ = ["page", "scoped_page", "name_filter", "clamp_limit"]
