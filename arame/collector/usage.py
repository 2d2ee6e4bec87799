"""The usage ledger's writer: `usage.open` / `usage.close` notifications in,
one row each, exactly once however often a message is delivered (the
scheduler's flows send them: instances when they run and terminate, data
volumes when they become available and deleted)."""

import datetime as dt

import sqlalchemy as sa

from arame.common.db import models, prepared

# Instances carry flavor, vcpus and memory_mb; volumes size_gb (GB-hours).
_FIELDS = (
    "account_id",
    "resource_id",
    "resource_type",
    "flavor",
    "vcpus",
    "memory_mb",
    "size_gb",
)


def record(session, event: str, payload: dict) -> bool:
    """Append the record unless it exists; True if this call wrote it.

    One statement: the unique key (resource_id, event) turns a repeated
    delivery into an ignored insert, and a close whose open was never
    written (the resource failed before it ran: nothing to bill) selects
    no row to insert."""
    values = {k: payload.get(k) for k in _FIELDS}
    return (
        session.execute(
            _INSERT[event == "close"],
            prepared.params(event=event, at=_parse(payload["at"]), **values),
        ).rowcount
        == 1
    )


def _insert(close: bool):
    u = models.UsageRecord.__table__
    columns = (*_FIELDS, "event", "at")
    row = sa.select(
        *(prepared.bound(k, u.c[k].type).label(k) for k in columns)
    )
    if close:
        row = row.where(
            sa.exists().where(
                u.c.resource_id == prepared.bound("resource_id"),
                u.c.event == "open",
            )
        )
    return (
        sa.insert(u)
        .from_select(list(columns), row)
        .prefix_with("OR IGNORE", dialect="sqlite")
        .prefix_with("IGNORE", dialect="mysql")
    )


# Every instance's start and end writes one: built once
# (common/db/prepared.py); [True] is a close's.
_INSERT = {False: _insert(False), True: _insert(True)}


def _parse(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (
        parsed.astimezone(dt.UTC).replace(tzinfo=None)
        if parsed.tzinfo
        else parsed
    )
