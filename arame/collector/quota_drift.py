"""Quotas: an account's `*_used` is what its live resources hold:
instances with `quota_held`, data volumes and sized instance roots
(`root_gb`) with a QuotaHold row, floating IPs their rows (allocated in
the transaction that counts them). A terminated instance or a deleted
volume holds nothing."""

import sqlalchemy as sa

from arame.collector import drift, ownership
from arame.common import ids
from arame.common.db import models

_QUOTA_USED = (
    "instances_used",
    "vcpus_used",
    "memory_mb_used",
    "volumes_used",
    "storage_gb_used",
    "floating_ips_used",
)


def _ended(QH):
    """The hold's resource is gone: a deleted volume, or a terminated
    instance (the hold of its sized root)."""
    V, I = models.Volume, models.Instance
    return sa.or_(
        sa.exists().where(V.id == QH.resource_id, V.status == "deleted"),
        sa.exists().where(I.id == QH.resource_id, I.status == "terminated"),
    )


def _busy_accounts(session) -> set[str]:
    """Accounts with a resource a flow owns: an instance, or a volume with
    a task queued or running (volumes' flows move them by compare-and-set
    too; their tasks are few)."""
    I, T, V, QH = models.Instance, models.Task, models.Volume, models.QuotaHold
    busy = set(
        session.scalars(
            sa.select(I.account_id)
            .where(ownership.owned_by_flow(I))
            .distinct()
        )
    )
    active = sa.select(T.resource_id).where(T.status.in_(ownership.ACTIVE))
    busy.update(
        session.scalars(sa.select(V.account_id).where(V.id.in_(active)))
    )
    busy.update(
        session.scalars(
            sa.select(QH.account_id).where(QH.resource_id.in_(active))
        )
    )
    return busy


def quotas(session) -> list[drift.Drift]:
    Q, I, QH = models.Quota, models.Instance, models.QuotaHold
    F = models.FloatingIp
    held = sa.and_(
        I.account_id == Q.account_id,
        I.quota_held.is_(True),
        I.status != "terminated",
    )
    live_hold = sa.and_(QH.account_id == Q.account_id, sa.not_(_ended(QH)))

    def total(column, where):
        return (
            sa.select(sa.func.coalesce(sa.func.sum(column), 0))
            .where(where)
            .scalar_subquery()
        )

    busy = _busy_accounts(session)
    # One statement, one snapshot: see claim_drift.hosts.
    rows = session.execute(
        sa.select(
            Q.account_id,
            *(getattr(Q, c) for c in _QUOTA_USED),
            sa.select(sa.func.count(I.id)).where(held).scalar_subquery(),
            total(I.vcpus, held),
            total(I.memory_mb, held),
            total(QH.volumes, live_hold),
            total(QH.storage_gb, live_hold),
            sa.select(sa.func.count(F.id))
            .where(F.account_id == Q.account_id, F.kind == "floating")
            .scalar_subquery(),
        ).order_by(Q.account_id)
    ).all()
    out = []
    for r in rows:
        if r[0] in busy:
            continue
        n = len(_QUOTA_USED)
        read = dict(zip(_QUOTA_USED, r[1 : 1 + n], strict=True))
        recorded, true = drift.differs(
            read, dict(zip(_QUOTA_USED, r[1 + n :], strict=True))
        )
        if true:
            out.append(
                drift.Drift(
                    f"quota of account {r[0]}",
                    recorded,
                    true,
                    drift.cas(Q, Q.account_id == r[0], read, true),
                )
            )
    return out


def leaked_holds(session) -> list[drift.Drift]:
    """Holds of resources that ended: a terminated instance's flag, a
    deleted volume's row (the account sums above leave them out)."""
    I, QH, T = models.Instance, models.QuotaHold, models.Task
    out = []
    for iid in session.scalars(
        sa.select(I.id)
        .where(
            I.quota_held.is_(True),
            I.status == "terminated",
            sa.not_(ownership.owned_by_flow(I)),
        )
        .order_by(I.id)
        .limit(drift.LIMIT)
    ):
        out.append(
            drift.Drift(
                f"instance {iid} (terminated)",
                {"quota_held": True},
                {"quota_held": False},
                drift.cas(
                    I,
                    sa.and_(I.id == iid, I.status == "terminated"),
                    {"quota_held": True},
                    {"quota_held": False},
                ),
            )
        )
    active = sa.select(T.resource_id).where(T.status.in_(ownership.ACTIVE))
    for vid in session.scalars(
        sa.select(QH.resource_id)
        .where(_ended(QH), QH.resource_id.not_in(active))
        .order_by(QH.resource_id)
        .limit(drift.LIMIT)
    ):
        out.append(
            drift.Drift(
                (
                    f"volume {vid} (deleted)"
                    if ids.is_valid("volume", vid)
                    else f"instance {vid} (terminated): its root_gb"
                ),
                {"quota hold": "held"},
                {"quota hold": None},
                _delete_hold(vid),
            )
        )
    return out


def _delete_hold(volume_id: str):
    def repair(session) -> bool:
        QH = models.QuotaHold
        return (
            session.execute(
                sa.delete(QH)
                .where(QH.resource_id == volume_id)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )

    return repair
