"""A resource a request refers to by id or by name, among those the caller
can see: what a new instance (or a unit's nodes) joins or boots from."""

import sqlalchemy as sa

from arame.common import exceptions, ids

# Enough to let the caller choose, without listing a whole catalogue.
MAX_CANDIDATES = 10


def resolve(s, model, kind: str, ref: str, *, visible, field: str):
    """The row of `model` whose id, else whose name, is `ref`, among the
    rows `visible` (an SQL condition) selects.

    422 naming `field` when none is, or when several share the name (with
    their ids: the caller picks one)."""
    what = kind.replace("_", " ")
    M = model
    if ids.is_valid(kind, ref):
        row = s.scalar(sa.select(M).where(M.id == ref, visible))
        if row is not None:
            return row
    rows = s.scalars(
        sa.select(M)
        .where(M.name == ref, visible)
        .order_by(M.id)
        .limit(MAX_CANDIDATES + 1)
    ).all()
    if len(rows) == 1:
        return rows[0]
    if rows:
        found = [r.id for r in rows[:MAX_CANDIDATES]]
        raise exceptions.Invalid(
            f"{field}: {ref!r} names more than one {what} "
            f"({', '.join(found)}); give its id",
            field=field,
            candidates=found,
        )
    raise exceptions.Invalid(f"{field}: unknown {what} {ref!r}", field=field)
