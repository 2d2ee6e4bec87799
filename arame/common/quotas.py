"""Account quotas: taken atomically when the API accepts a request, given
back exactly once when the resource ends.

Both sides are conditional UPDATEs: the take checks every limit in its WHERE
clause (so two concurrent requests can never both pass the last unit), the
give-back flips the instance's `quota_held` flag first (a volume's: deletes
its QuotaHold row first).

Volumes: `volumes` and `storage_gb` count the data volumes made through
/v1/volumes. An instance's root volume does not count there: it is the
flavor's disk, under the instance limits (as OpenStack counts a root disk in
Cinder's quotas only when the user boots from a volume they made). A root
the user sized (`root_gb`, local or on storage) counts in `storage_gb`: a
QuotaHold keyed by the instance, given back with the instance's share.
"""

import functools

import sqlalchemy as sa

from arame.common import exceptions
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models, prepared

RESOURCES = (
    "instances",
    "vcpus",
    "memory_mb",
    "volumes",
    "storage_gb",
    "floating_ips",
)


def limits(row: models.Quota | None) -> dict[str, int]:
    """Effective limits: the account's own, else the configured default
    (-1: no limit)."""
    return {
        r: (
            getattr(row, r)
            if row is not None and getattr(row, r) is not None
            else getattr(CONF.quota, r)
        )
        for r in RESOURCES
    }


def ensure_row(account_id: str) -> None:
    """Make the account's quota row exist, in a transaction of its own.

    Call it before the transaction that takes: inside that one, concurrent
    first inserts of the same key leave InnoDB holding shared locks after the
    duplicate-key error, and the UPDATE that follows deadlocks.
    """
    with db_engine.session() as s:
        if s.get(models.Quota, account_id) is not None:
            return
    try:
        with db_engine.session(replayable=True) as s:
            s.add(models.Quota(account_id=account_id))
    except sa.exc.IntegrityError:
        pass  # created by a concurrent request: fine


def take(session, account_id: str, want: dict[str, int]) -> None:
    """Reserve `want` (e.g. {"instances": 1, "vcpus": 2, "memory_mb": 2048})
    or raise OverQuota (429) naming the limit. `ensure_row` first."""
    defaults = {f"default_{r}": getattr(CONF.quota, r) for r in want}
    rc = session.execute(
        _take(tuple(sorted(want))),
        prepared.params(
            account=account_id, now=models.utcnow(), **want, **defaults
        ),
    ).rowcount
    if rc == 1:
        return
    row = session.get(models.Quota, account_id)
    session.refresh(row)
    lim = limits(row)
    for r, n in want.items():
        used = getattr(row, f"{r}_used")
        if lim[r] >= 0 and used + n > lim[r]:
            raise exceptions.OverQuota(
                f"quota exceeded for {r}: {used} in use + {n} requested > "
                f"limit {lim[r]}",
                resource=r,
                limit=lim[r],
                in_use=used,
                requested=n,
            )
    raise exceptions.Conflict("quota changed during the request; try again")


def release_instance(session, instance_id: str) -> bool:
    """Give back an instance's share, once; True if this call did."""
    at = prepared.params(id=instance_id)
    inst = session.execute(_HELD_INSTANCE, at).first()
    if inst is None:
        return False
    if session.execute(_UNHOLD_INSTANCE, at).rowcount != 1:
        return False
    release_volume(session, instance_id)  # its root_gb hold, if any
    session.execute(
        _GIVE_BACK_INSTANCE,
        prepared.params(
            account=inst.account_id,
            vcpus=inst.vcpus,
            memory_mb=inst.memory_mb,
        ),
    )
    return True


def take_volume(
    session, account_id: str, volume_id: str, size_gb: int
) -> None:
    """Reserve one volume of `size_gb` for `volume_id` (OverQuota, 429,
    otherwise), in the caller's transaction with the volume's record.
    `ensure_row` first."""
    take(session, account_id, {"volumes": 1, "storage_gb": size_gb})
    session.add(
        models.QuotaHold(
            resource_id=volume_id,
            account_id=account_id,
            volumes=1,
            storage_gb=size_gb,
        )
    )


def hold_root(session, inst: models.Instance) -> None:
    """Record the `storage_gb` an instance's sized root took (`take` has
    taken it), so that release_instance gives it back."""
    session.add(
        models.QuotaHold(
            resource_id=inst.id,
            account_id=inst.account_id,
            volumes=0,
            storage_gb=inst.root_gb,
        )
    )


def release_volume(session, volume_id: str) -> bool:
    """Give back a volume's share, once; True if this call did. A volume
    that holds nothing (a root volume, or one made before volume quotas)
    gives nothing back."""
    at = prepared.params(id=volume_id)
    hold = session.execute(_VOLUME_HOLD, at).first()
    if hold is None:
        return False
    if session.execute(_DROP_VOLUME_HOLD, at).rowcount != 1:
        return False  # a concurrent give-back won
    session.execute(
        _GIVE_BACK_VOLUME,
        prepared.params(
            account=hold.account_id,
            volumes=hold.volumes,
            storage_gb=hold.storage_gb,
            now=models.utcnow(),
        ),
    )
    return True


def release_floating_ip(session, account_id: str) -> None:
    """Give back one floating IP. The caller calls it once, in the
    transaction whose DELETE of the floating IP's row removed it (so a
    concurrent release cannot give it back twice)."""
    Q = models.Quota
    session.execute(
        sa.update(Q)
        .where(Q.account_id == account_id, Q.floating_ips_used > 0)
        .values(
            floating_ips_used=Q.floating_ips_used - 1,
            updated_at=models.utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


@functools.cache
def _take(resources: tuple[str, ...]):
    """take()'s compare-and-set, built once per set of resources (every
    create runs one: common/db/prepared.py).
    A limit of the row's own (NULL: the configured default) below zero
    is no limit."""
    q = models.Quota.__table__
    conds = [q.c.account_id == prepared.bound("account")]
    for r in resources:
        used = q.c[f"{r}_used"]
        limit = sa.func.coalesce(
            q.c[r], prepared.bound(f"default_{r}", sa.Integer)
        )
        n = prepared.bound(r, sa.Integer)
        conds.append(sa.or_(limit < 0, used + n <= limit))
    return (
        sa.update(q)
        .where(*conds)
        .values(
            {
                f"{r}_used": q.c[f"{r}_used"] + prepared.bound(r, sa.Integer)
                for r in resources
            }
            | {"updated_at": prepared.bound("now")}
        )
    )


# Every delete gives back its share: built once (common/db/prepared.py).
_I = models.Instance.__table__
_Q = models.Quota.__table__
_QH = models.QuotaHold.__table__
_HELD_INSTANCE = sa.select(_I.c.account_id, _I.c.vcpus, _I.c.memory_mb).where(
    _I.c.id == prepared.bound("id"), _I.c.quota_held.is_(True)
)
_UNHOLD_INSTANCE = (
    sa.update(_I)
    .where(_I.c.id == prepared.bound("id"), _I.c.quota_held.is_(True))
    .values(quota_held=False)
)
_GIVE_BACK_INSTANCE = (
    sa.update(_Q)
    .where(_Q.c.account_id == prepared.bound("account"))
    .values(
        instances_used=_Q.c.instances_used - 1,
        vcpus_used=_Q.c.vcpus_used - prepared.bound("vcpus", sa.Integer),
        memory_mb_used=_Q.c.memory_mb_used
        - prepared.bound("memory_mb", sa.Integer),
    )
)
_VOLUME_HOLD = sa.select(
    _QH.c.account_id, _QH.c.volumes, _QH.c.storage_gb
).where(_QH.c.resource_id == prepared.bound("id"))
_DROP_VOLUME_HOLD = sa.delete(_QH).where(
    _QH.c.resource_id == prepared.bound("id")
)
_GIVE_BACK_VOLUME = (
    sa.update(_Q)
    .where(_Q.c.account_id == prepared.bound("account"))
    .values(
        volumes_used=_Q.c.volumes_used - prepared.bound("volumes", sa.Integer),
        storage_gb_used=_Q.c.storage_gb_used
        - prepared.bound("storage_gb", sa.Integer),
        updated_at=prepared.bound("now"),
    )
)
