"""Which storage nodes can hold a volume of a given size: shared by the
placement of data volumes and of instances' root volumes."""

import sqlalchemy as sa

from arame.common.conf import CONF
from arame.common.db import models

GiB = 1024**3


def with_room(s, nodes: list[str], size_gb: int) -> tuple[list[str], dict]:
    """(the nodes whose pool can hold `size_gb` more, {node: why not} for
    the others). Volumes are sparse: a node fits when the size is at most
    its pool's free bytes, as its last heartbeat reported them (the
    storage_nodes table), times [sta] overcommit_ratio. A node that never
    reported its pool is not refused: nothing says it is full."""
    SN = models.StorageNode
    pools = {
        r.name: r for r in s.scalars(sa.select(SN).where(SN.name.in_(nodes)))
    }
    ratio = CONF.sta.overcommit_ratio
    fit, why = [], {}
    for n in nodes:
        p = pools.get(n)
        if p is None or size_gb * GiB <= p.free_bytes * ratio:
            fit.append(n)
        else:
            why[n] = f"{n} has {p.free_bytes / GiB:.1f} GiB free" + (
                f" (x{ratio:g} overcommit)" if ratio != 1 else ""
            )
    return fit, why
