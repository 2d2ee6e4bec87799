"""Bare-metal placement and flows: a `bm` instance takes a whole node
(claims.py), is built and deleted by its own flows (build.py, delete.py);
nodes have their own admin tasks (nodes.py)."""

import sqlalchemy as sa

from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.flows.row_flow import InstanceFlow


def is_baremetal(instance_id: str) -> bool:
    """Whether the instance's flavor is a `bm` one (its flows are here)."""
    with db_engine.session() as s:
        return (
            s.scalar(
                sa.select(models.Instance.provider).where(
                    models.Instance.id == instance_id
                )
            )
            == "bm"
        )


class BaremetalFlow(InstanceFlow):
    """A `bm` instance's flow: it drives the node's BMC (bma), its names
    (nsa) and its root volume (sta)."""

    def __init__(self, ctxt, task_id, instance_id, bma, nsa, sta):
        super().__init__(ctxt, task_id, instance_id)
        self.bma = bma
        self.nsa = nsa
        self.sta = sta
