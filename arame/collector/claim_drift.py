"""Claims: a host's `*_used` and `instance_count` are the sum over its
claimed, not terminated instances. One in error keeps its claim until a
delete releases it (its guest may still be on that host); a terminated
instance holds none."""

import sqlalchemy as sa

from arame.collector import drift, ownership
from arame.common.db import models

_HOST_USED = ("vcpus_used", "memory_mb_used", "disk_gb_used", "instance_count")


def hosts(session) -> list[drift.Drift]:
    H, I = models.Host, models.Instance
    busy = set(
        session.scalars(
            sa.select(I.host)
            .where(I.host.is_not(None), ownership.owned_by_flow(I))
            .distinct()
        )
    )
    zero = sa.literal(0)
    # One statement: the counters and the sums they must equal come from
    # one snapshot (READ COMMITTED gives each statement its own).
    rows = session.execute(
        sa.select(
            H.name,
            *(getattr(H, c) for c in _HOST_USED),
            sa.func.coalesce(sa.func.sum(I.vcpus), zero).label("t_vcpus"),
            sa.func.coalesce(sa.func.sum(I.memory_mb), zero).label("t_mem"),
            sa.func.coalesce(sa.func.sum(I.disk_gb), zero).label("t_disk"),
            sa.func.count(I.id).label("t_count"),
        )
        .outerjoin(
            I,
            sa.and_(
                I.host == H.name,
                I.claimed.is_(True),
                I.status != "terminated",
            ),
        )
        .group_by(H.name, *(getattr(H, c) for c in _HOST_USED))
        .order_by(H.name)
    ).all()
    out = []
    for r in rows:
        if r.name in busy:
            continue
        sums = (r.t_vcpus, r.t_mem, r.t_disk, r.t_count)
        read = {c: getattr(r, c) for c in _HOST_USED}
        recorded, true = drift.differs(
            read, dict(zip(_HOST_USED, sums, strict=True))
        )
        if true:
            out.append(
                drift.Drift(
                    f"host {r.name}",
                    recorded,
                    true,
                    drift.cas(H, H.name == r.name, read, true),
                )
            )
    return out


def leaked_claims(session) -> list[drift.Drift]:
    """Terminated instances still flagged claimed: their host's sum above
    leaves them out already; the flag goes so that nothing releases them
    again."""
    I = models.Instance
    ids = session.scalars(
        sa.select(I.id)
        .where(
            I.claimed.is_(True),
            I.status == "terminated",
            sa.not_(ownership.owned_by_flow(I)),
        )
        .order_by(I.id)
        .limit(drift.LIMIT)
    ).all()
    return [
        drift.Drift(
            f"instance {iid} (terminated)",
            {"claimed": True},
            {"claimed": False},
            drift.cas(
                I,
                sa.and_(I.id == iid, I.status == "terminated"),
                {"claimed": True},
                {"claimed": False},
            ),
        )
        for iid in ids
    ]
