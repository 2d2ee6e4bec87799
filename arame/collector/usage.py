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
    """Append the record unless it exists; True if this call wrote it."""
    U = models.UsageRecord
    exists = session.scalar(
        sa.select(U.id).where(
            U.resource_id == payload["resource_id"], U.event == event
        )
    )
    if exists is not None:
        return False
    if (
        event == "close"
        and session.scalar(
            sa.select(U.id).where(
                U.resource_id == payload["resource_id"], U.event == "open"
            )
        )
        is None
    ):
        # Never opened (it failed before it ran): nothing to bill.
        return False
    try:
        with session.begin_nested():
            session.add(
                U(
                    event=event,
                    at=_parse(payload["at"]),
                    **{k: payload.get(k) for k in _FIELDS},
                )
            )
    except sa.exc.IntegrityError:
        return False  # a concurrent delivery of the same message won
    return True


def _parse(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (
        parsed.astimezone(dt.UTC).replace(tzinfo=None)
        if parsed.tzinfo
        else parsed
    )
