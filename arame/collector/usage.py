"""The usage ledger's writer: `usage.open` / `usage.close` notifications in,
one row each, exactly once however often a message is delivered (the
scheduler's flows send them: instances when they run and terminate, data
volumes when they become available and deleted)."""

import datetime as dt

import sqlalchemy as sa

from arame.common.db import models

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
    U = models.UsageRecord
    values = {k: payload.get(k) for k in _FIELDS}
    values.update(event=event, at=_parse(payload["at"]))
    row = sa.select(
        *(
            sa.literal(v, U.__table__.c[k].type).label(k)
            for k, v in values.items()
        )
    )
    if event == "close":
        row = row.where(
            sa.exists().where(
                U.resource_id == payload["resource_id"], U.event == "open"
            )
        )
    insert = (
        sa.insert(U)
        .from_select(list(values), row)
        .prefix_with("OR IGNORE", dialect="sqlite")
        .prefix_with("IGNORE", dialect="mysql")
    )
    return session.execute(insert).rowcount == 1


def _parse(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (
        parsed.astimezone(dt.UTC).replace(tzinfo=None)
        if parsed.tzinfo
        else parsed
    )
