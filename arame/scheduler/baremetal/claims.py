"""Bare-metal placement: a `bm` instance takes a whole node.

The claim is one conditional UPDATE of the node (only if it is still
`available`, out of maintenance and unheld) plus one of the instance (only
if it is still `pending`), in one transaction, as for hosts (claims.py):
two schedulers that pick the same node cannot both take it. The release
clears the node's `instance_id` only if that instance still holds it, so it
happens once however often it is asked.
"""

import sqlalchemy as sa

from arame.agents.bma import rpcapi as bma_rpcapi
from arame.common import states
from arame.common.db import engine as db_engine
from arame.common.db import models, services
from arame.scheduler.claims import ClaimLost, InstanceGone

BMA_BINARY = bma_rpcapi.BINARY

__all__ = [
    "ClaimLost",
    "InstanceGone",
    "bma_host",
    "candidates",
    "claim",
    "explain",
    "release",
]


def _fits(N, inst: models.Instance):
    return sa.and_(
        N.cpus >= inst.vcpus,
        N.memory_mb >= inst.memory_mb,
        N.disk_gb >= inst.disk_gb,
        sa.or_(N.resource_class.is_(None), N.resource_class == inst.flavor),
    )


def candidates(session, inst: models.Instance) -> list[str]:
    """Ids of the nodes that could take `inst`, the smallest fit first (the
    big nodes stay free for the big flavors)."""
    N = models.BaremetalNode
    return list(
        session.scalars(
            sa.select(N.id)
            .where(
                N.provision_state == "available",
                N.maintenance.is_(False),
                N.instance_id.is_(None),
                _fits(N, inst),
            )
            .order_by(N.cpus, N.memory_mb, N.disk_gb, N.id)
        )
    )


def explain(session, inst: models.Instance) -> str:
    """Why no node: "no valid node" explains itself as hosts do."""
    N = models.BaremetalNode
    rows = session.execute(
        sa.select(
            N.provision_state, N.maintenance, _fits(N, inst).label("fits")
        )
    ).all()
    if not rows:
        return "no bare-metal nodes are enrolled"
    free = [
        r
        for r in rows
        if r.provision_state == "available" and not r.maintenance
    ]
    return (
        f"{len(rows)} node(s): {len(rows) - len(free)} not available or "
        f"in maintenance, {sum(1 for r in free if not r.fits)} too small "
        f"for flavor {inst.flavor} or of another resource class"
    )


def claim(instance_id: str, node_id: str) -> None:
    N, I = models.BaremetalNode, models.Instance
    now = models.utcnow()
    with db_engine.session() as s:
        rc = s.execute(
            sa.update(N)
            .where(
                N.id == node_id,
                N.provision_state == "available",
                N.maintenance.is_(False),
                N.instance_id.is_(None),
            )
            .values(
                provision_state="deploying",
                instance_id=instance_id,
                status_reason=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if rc != 1:
            raise ClaimLost(node_id)
        rc = s.execute(
            sa.update(I)
            .where(I.id == instance_id, I.status == "pending")
            .values(status="scheduling", node_id=node_id, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if rc != 1:
            # The node's update rolls back with the transaction.
            raise InstanceGone(instance_id)


def release(
    instance_id: str, node_id: str, dst: str, reason: str | None = None
) -> bool:
    """Free the node from `instance_id` into `dst` ("available", or
    "error" with the reason); True if this call freed it."""
    N = models.BaremetalNode
    with db_engine.session() as s:
        rc = s.execute(
            sa.update(N)
            .where(
                N.id == node_id,
                N.instance_id == instance_id,
                N.provision_state.in_(states.NODE.sources(dst)),
            )
            .values(
                provision_state=dst,
                instance_id=None,
                status_reason=reason and reason[:255],
                updated_at=models.utcnow(),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    return rc == 1


def bma_host(session, node: models.BaremetalNode) -> str | None:
    """The bma agent that drives the node: its recorded one, else the
    first live agent, recorded now (its power sync then watches it)."""
    if node.bma_host:
        return node.bma_host
    live = services.live_hosts(session, BMA_BINARY)
    if not live:
        return None
    N = models.BaremetalNode
    session.execute(
        sa.update(N)
        .where(N.id == node.id, N.bma_host.is_(None))
        .values(bma_host=live[0])
        .execution_options(synchronize_session=False)
    )
    return session.scalar(sa.select(N.bma_host).where(N.id == node.id))
