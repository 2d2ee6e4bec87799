"""Marker pagination (doc/source/architecture/rest.rst): `?limit=&marker=<id>&sort=[-]<field>` ->
items + next_marker.

Ordered by (sort field, id), ascending or descending: the id breaks ties,
so the order is total and a marker (the id of the last item of the
previous page) says exactly where the next page starts in any order.
"""

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import Query

from arame.common import exceptions
from arame.common.conf import CONF
from arame.common.db import engine as db_engine

DEFAULT_SORT = "created_at"


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return CONF.api.default_limit
    return max(1, min(limit, CONF.api.max_limit))


def sort_query(*fields: str):
    """The `sort` query parameter of a list route: one of `fields`, `-` in
    front for descending. Unknown values are FastAPI's 422, whose message
    lists the allowed ones (and the OpenAPI document shows them)."""
    values = tuple(v for f in fields for v in (f, f"-{f}"))
    return Annotated[
        Literal[values] | None,
        Query(
            description="order by this field (`-` first: descending); ties "
            "are ordered by id"
        ),
    ]


def name_filter(column, pattern: str):
    """`name=web*`: shell-style wildcards, translated to LIKE."""
    if "*" not in pattern and "?" not in pattern:
        return column == pattern
    like = (
        pattern.replace("\\", "\\\\")
        .replace("%", "\\%")
        .replace("_", "\\_")
        .replace("*", "%")
        .replace("?", "_")
    )
    return column.like(like, escape="\\")


def _key(model, sort: str, columns: dict | None):
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    column = (columns or {}).get(field)
    if column is None:
        column = getattr(model, field, None)
    if column is None:
        # Routes declare their fields with sort_query(); this is a
        # service called with a field its model lacks.
        raise exceptions.Invalid(
            f"sort: cannot sort by {field!r}", field="sort"
        )
    return column, descending


def page(
    session,
    stmt,
    model,
    marker: str | None,
    limit: int | None,
    descending: bool = False,
    *,
    sort: str | None = None,
    columns: dict | None = None,
):
    """One page of `stmt` and the marker of the next (None on the last).

    `sort` is `field` or `-field` (default: created_at, descending if
    `descending`); `columns` maps a field to a column of another name
    (users sort `name` by username)."""
    if sort is None:
        sort = ("-" if descending else "") + DEFAULT_SORT
    column, desc = _key(model, sort, columns)
    limit = clamp_limit(limit)
    if column is model.id:
        order = (model.id.desc(),) if desc else (model.id.asc(),)
    else:
        order = (
            (column.desc(), model.id.desc())
            if desc
            else (column.asc(), model.id.asc())
        )
    if marker:
        # Looked up within the caller's own filters: a marker from another
        # account is as unknown as one that does not exist.
        m = session.execute(
            stmt.with_only_columns(column, model.id).where(model.id == marker)
        ).first()
        if m is None:
            raise exceptions.BadRequest(f"unknown marker {marker!r}")
        stmt = stmt.where(_after(column, model.id, m[0], m[1], desc))
    rows = session.scalars(stmt.order_by(*order).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def _after(column, id_column, value, id_value, desc: bool):
    """Rows strictly after (value, id_value) in the order; spelt out rather
    than as a row-value comparison so that a NULL key (sorted first by
    SQLite and MariaDB alike) is handled too."""
    beyond = (lambda c, v: c < v) if desc else (lambda c, v: c > v)
    by_id = beyond(id_column, id_value)
    if column is id_column:
        return by_id
    if value is None:
        # NULLs come first ascending, last descending.
        if desc:
            return sa.and_(column.is_(None), by_id)
        return sa.or_(column.is_not(None), sa.and_(column.is_(None), by_id))
    tie = sa.and_(column == value, by_id)
    if desc:
        return sa.or_(beyond(column, value), tie, column.is_(None))
    return sa.or_(beyond(column, value), tie)


def scoped_page(
    ctxt,
    stmt,
    model,
    to_dict,
    *,
    account_column,
    name_column=None,
    name=None,
    marker=None,
    limit=None,
    sort=None,
    columns=None,
) -> dict:
    """A page of `stmt` as the REST conventions (doc/source/architecture/rest.rst) list it: the caller's own account unless
    admin, `name=` as a glob, marker pagination in the order asked."""
    if not ctxt.is_admin:
        stmt = stmt.where(account_column == ctxt.account_id)
    if name and name_column is not None:
        stmt = stmt.where(name_filter(name_column, name))
    with db_engine.session() as s:
        rows, nxt = page(
            s, stmt, model, marker, limit, sort=sort, columns=columns
        )
        return {"items": [to_dict(r) for r in rows], "next_marker": nxt}


__all__ = ["clamp_limit", "name_filter", "page", "scoped_page", "sort_query"]
