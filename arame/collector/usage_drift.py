"""The usage ledger: one `open` per instance that ran, one `close` per
instance that ran and is terminated. A missing record is appended at the
time the flow made it true; one that never ran gets neither."""

import datetime as dt

import sqlalchemy as sa

from arame.collector import drift, ownership, usage
from arame.common import usage as common_usage
from arame.common.db import models

# Statuses only an instance that ran can be in.
_RAN = ("running", "stopping", "stopped", "rebooting")


def ledger(session, settle_s: float, now: dt.datetime) -> list[drift.Drift]:
    """Instances that ran with no `open`, or that ran and are terminated
    with no `close`: the record is appended, at the time the flow made it
    true (the build's end, the termination). One that never ran gets
    neither: it had nothing to bill."""
    I, T, U = models.Instance, models.Task, models.UsageRecord
    cutoff = now - dt.timedelta(seconds=settle_s)

    def has(event):
        return sa.exists().where(U.resource_id == I.id, U.event == event)

    built_at = (
        sa.select(sa.func.max(T.updated_at))
        .where(T.resource_id == I.id, T.action == "create", T.status == "done")
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(
            I,
            built_at.label("built_at"),
            has("open").label("opened"),
            has("close").label("closed"),
        )
        .where(
            sa.not_(ownership.owned_by_flow(I)),
            # Only those that ran: the many that never did (failed builds)
            # must not fill the limit round after round.
            sa.or_(has("open"), built_at.is_not(None), I.status.in_(_RAN)),
            sa.or_(
                sa.not_(has("open")),
                sa.and_(sa.not_(has("close")), I.status == "terminated"),
            ),
        )
        .order_by(I.id)
        .limit(drift.LIMIT)
    ).all()
    out = []
    for inst, built, opened, closed in rows:
        # When it is known to have run: its build's end, else (it ran
        # without a build that says so: an error the power sync found
        # running) its last change while in a state only a run reaches.
        ran_at = built or (inst.updated_at if inst.status in _RAN else None)
        missing = []
        if not opened and ran_at is not None and ran_at <= cutoff:
            missing.append(("open", ran_at))
        if inst.status == "terminated" and not closed:
            ended = inst.terminated_at or inst.updated_at
            if ended <= cutoff:
                missing.append(("close", ended))
        if missing:
            out.append(
                drift.Drift(
                    f"usage of instance {inst.id} ({inst.status})",
                    {e: None for e, _ in missing},
                    {e: at.isoformat() for e, at in missing},
                    _append_usage(inst, missing),
                )
            )
    return out


def _append_usage(inst, missing):
    """The records the flow's notifications would have written: usage's
    own writer, whose unique key makes a late notification a no-op."""

    def repair(session) -> bool:
        wrote = False
        for event, at in missing:
            wrote |= usage.record(
                session, event, common_usage.instance_record(inst, at)
            )
        return wrote

    return repair
