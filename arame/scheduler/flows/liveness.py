"""Is the host of an agent that does not answer down? A flow asks an agent
again while it is up (it may be restarting), and stops asking once the
host has missed its heartbeats for [DEFAULT] service_down_time."""

import datetime as dt

import sqlalchemy as sa

from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models


def _stale(last: dt.datetime | None) -> bool:
    if last is None:
        return True
    age = (models.utcnow() - last).total_seconds()
    return age > CONF.service_down_time


def hypervisor_down(host: str):
    """A callable: is hypervisor `host` down now?"""

    def down() -> bool:
        with db_engine.session() as s:
            last = s.scalar(
                sa.select(models.Host.last_report_at).where(
                    models.Host.name == host
                )
            )
        return _stale(last)

    return down


def storage_node_down(node: str):
    def down() -> bool:
        with db_engine.session() as s:
            last = s.scalar(
                sa.select(models.StorageNode.reported_at).where(
                    models.StorageNode.name == node
                )
            )
        return _stale(last)

    return down


def service_down(binary: str, host: str):
    def down() -> bool:
        S = models.Service
        with db_engine.session() as s:
            last = s.scalar(
                sa.select(S.last_heartbeat_at).where(
                    S.binary == binary, S.host == host
                )
            )
        return _stale(last)

    return down
