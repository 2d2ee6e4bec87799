"""Capacity claims as compare-and-set rows.

A claim is one conditional UPDATE of the host's *_used columns (it succeeds
only if the capacity is still there) plus one conditional UPDATE of the
instance (only if it is still pending), in one transaction: many schedulers
can run at once with no lock server and never over-allocate. A release
clears the instance's `claimed` flag and gives back the capacity in one
transaction, so it happens once however many flows ask for it.
"""

import sqlalchemy as sa

from arame.common import states
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models, prepared


class ClaimLost(Exception):
    """The host's capacity went to another claim first."""


class InstanceGone(Exception):
    """The instance left `pending` (deleted) before it could be placed."""


def claim(
    instance_id: str,
    host: str,
    vcpus: int,
    memory_mb: int,
    disk_gb: int,
    session=None,
    status: str = "scheduling",
) -> None:
    """Claim in a transaction of its own, or in `session`'s: the build
    flow commits its claim with the step's record and the instance's move
    to `starting` (one commit instead of three). A lost claim writes
    nothing; InstanceGone leaves the host's update for the caller's
    rollback. `status`: where the instance lands, `scheduling` or a state
    the table allows after it (the build's `starting`: both moves in the
    claim's one statement, where a second UPDATE of the same row made the
    second)."""
    if status != "scheduling":
        states.INSTANCE.check("scheduling", status)
    if session is not None:
        _claim(session, instance_id, host, vcpus, memory_mb, disk_gb, status)
        return
    with db_engine.session() as s:
        _claim(s, instance_id, host, vcpus, memory_mb, disk_gb, status)


def _claim(s, instance_id, host, vcpus, memory_mb, disk_gb, status) -> None:
    ratios = CONF.scheduler
    rc = s.execute(
        _CLAIM_HOST,
        prepared.params(
            host=host,
            vcpus=vcpus,
            memory_mb=memory_mb,
            disk_gb=disk_gb,
            cpu_ratio=ratios.cpu_allocation_ratio,
            ram_ratio=ratios.ram_allocation_ratio,
            disk_ratio=ratios.disk_allocation_ratio,
        ),
    ).rowcount
    if rc != 1:
        raise ClaimLost(host)
    rc = s.execute(
        _CLAIM_INSTANCE,
        prepared.params(
            id=instance_id, host=host, status=status, now=models.utcnow()
        ),
    ).rowcount
    if rc != 1:
        # Roll the host's update back with the transaction.
        raise InstanceGone(instance_id)


def release(instance_id: str, session=None) -> bool:
    """Give the instance's capacity back; True if this call released it.
    In `session` if given (a delete's last transaction), else in its own."""
    if session is None:
        with db_engine.session() as s:
            return release(instance_id, s)
    I = models.Instance
    s = session
    inst = s.execute(
        sa.select(I.host, I.vcpus, I.memory_mb, I.disk_gb).where(
            I.id == instance_id, I.claimed.is_(True)
        )
    ).first()
    if inst is None:
        return False
    rc = s.execute(
        _UNCLAIM_INSTANCE, prepared.params(id=instance_id, now=models.utcnow())
    ).rowcount
    if rc != 1:
        return False
    give_back(s, inst.host, inst)
    return True


def give_back(s, host: str, inst) -> None:
    """Take `inst`'s vcpus, memory and disk off `host`'s usage (a release,
    or an evacuation moving it away)."""
    s.execute(
        _GIVE_BACK,
        prepared.params(
            host=host,
            vcpus=inst.vcpus,
            memory_mb=inst.memory_mb,
            disk_gb=inst.disk_gb,
        ),
    )


# Every build claims and every delete gives back: built once
# (common/db/prepared.py).
_H = models.Host.__table__
_I = models.Instance.__table__
_CLAIM_HOST = (
    sa.update(_H)
    .where(
        _H.c.name == prepared.bound("host"),
        # A host disabled or put in maintenance after the selector read
        # it takes nothing: the build moves on, as for a host that filled
        # up meanwhile.
        _H.c.enabled.is_(True),
        _H.c.maintenance.is_(False),
        _H.c.vcpus_used + prepared.bound("vcpus")
        <= _H.c.vcpus * prepared.bound("cpu_ratio", sa.Float),
        _H.c.memory_mb_used + prepared.bound("memory_mb")
        <= _H.c.memory_mb * prepared.bound("ram_ratio", sa.Float),
        _H.c.disk_gb_used + prepared.bound("disk_gb")
        <= _H.c.disk_gb * prepared.bound("disk_ratio", sa.Float),
    )
    .values(
        vcpus_used=_H.c.vcpus_used + prepared.bound("vcpus"),
        memory_mb_used=_H.c.memory_mb_used + prepared.bound("memory_mb"),
        disk_gb_used=_H.c.disk_gb_used + prepared.bound("disk_gb"),
        instance_count=_H.c.instance_count + 1,
    )
)
_CLAIM_INSTANCE = (
    sa.update(_I)
    .where(
        _I.c.id == prepared.bound("id"),
        _I.c.status == "pending",
        _I.c.claimed.is_(False),
    )
    .values(
        status=prepared.bound("status"),
        host=prepared.bound("host"),
        claimed=True,
        updated_at=prepared.bound("now"),
    )
)
_UNCLAIM_INSTANCE = (
    sa.update(_I)
    .where(_I.c.id == prepared.bound("id"), _I.c.claimed.is_(True))
    .values(claimed=False, updated_at=prepared.bound("now"))
)
_GIVE_BACK = (
    sa.update(_H)
    .where(_H.c.name == prepared.bound("host"))
    .values(
        vcpus_used=_H.c.vcpus_used - prepared.bound("vcpus"),
        memory_mb_used=_H.c.memory_mb_used - prepared.bound("memory_mb"),
        disk_gb_used=_H.c.disk_gb_used - prepared.bound("disk_gb"),
        instance_count=_H.c.instance_count - 1,
    )
)
