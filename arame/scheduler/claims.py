"""Capacity claims as compare-and-set rows.

A claim is one conditional UPDATE of the host's *_used columns (it succeeds
only if the capacity is still there) plus one conditional UPDATE of the
instance (only if it is still pending), in one transaction: many schedulers
can run at once with no lock server and never over-allocate. A release
clears the instance's `claimed` flag and gives back the capacity in one
transaction, so it happens once however many flows ask for it.
"""

import sqlalchemy as sa

from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models


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
) -> None:
    """Claim in a transaction of its own, or in `session`'s: the build
    flow commits its claim with the step's record and the instance's move
    to `starting` (one commit instead of three). A lost claim writes
    nothing; InstanceGone leaves the host's update for the caller's
    rollback."""
    if session is not None:
        _claim(session, instance_id, host, vcpus, memory_mb, disk_gb)
        return
    with db_engine.session() as s:
        _claim(s, instance_id, host, vcpus, memory_mb, disk_gb)


def _claim(s, instance_id, host, vcpus, memory_mb, disk_gb) -> None:
    H = models.Host
    ratios = CONF.scheduler
    rc = s.execute(
        sa.update(H)
        .where(
            H.name == host,
            # A host disabled or put in maintenance after the selector
            # read it takes nothing: the build moves on, as for a
            # host that filled up meanwhile.
            H.enabled.is_(True),
            H.maintenance.is_(False),
            H.vcpus_used + vcpus <= H.vcpus * ratios.cpu_allocation_ratio,
            H.memory_mb_used + memory_mb
            <= H.memory_mb * ratios.ram_allocation_ratio,
            H.disk_gb_used + disk_gb
            <= H.disk_gb * ratios.disk_allocation_ratio,
        )
        .values(
            vcpus_used=H.vcpus_used + vcpus,
            memory_mb_used=H.memory_mb_used + memory_mb,
            disk_gb_used=H.disk_gb_used + disk_gb,
            instance_count=H.instance_count + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if rc != 1:
        raise ClaimLost(host)
    I = models.Instance
    rc = s.execute(
        sa.update(I)
        .where(
            I.id == instance_id,
            I.status == "pending",
            I.claimed.is_(False),
        )
        .values(
            status="scheduling",
            host=host,
            claimed=True,
            updated_at=models.utcnow(),
        )
        .execution_options(synchronize_session=False)
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
        sa.update(I)
        .where(I.id == instance_id, I.claimed.is_(True))
        .values(claimed=False, updated_at=models.utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if rc != 1:
        return False
    give_back(s, inst.host, inst)
    return True


def give_back(s, host: str, inst) -> None:
    """Take `inst`'s vcpus, memory and disk off `host`'s usage (a release,
    or an evacuation moving it away)."""
    H = models.Host
    s.execute(
        sa.update(H)
        .where(H.name == host)
        .values(
            vcpus_used=H.vcpus_used - inst.vcpus,
            memory_mb_used=H.memory_mb_used - inst.memory_mb,
            disk_gb_used=H.disk_gb_used - inst.disk_gb,
            instance_count=H.instance_count - 1,
        )
        .execution_options(synchronize_session=False)
    )
