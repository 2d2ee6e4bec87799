"""Heartbeats: every daemon says it is alive every [DEFAULT] report_interval.

Daemons with database access (api, scheduler, collector) write their own row,
as Nova's servicegroup does; agents hold no DB credentials and send a
`service.heartbeat` notification that the collector writes.
"""

import socket

from oslo_log import log
import sqlalchemy as sa

from arame import __version__
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.common.service import PeriodicComponent

LOG = log.getLogger(__name__)


def service_record(binary: str, topic: str, host: str | None = None) -> dict:
    return {"host": host or CONF.host, "binary": binary, "topic": topic,
            "version": __version__}


def write_service_heartbeat(session, record: dict, at=None) -> None:
    """Upsert one service row; portable across MySQL and SQLite."""
    at = at or models.utcnow()
    updated = session.execute(
        sa.update(models.Service)
        .where(models.Service.host == record["host"],
               models.Service.binary == record["binary"])
        .values(topic=record["topic"], version=record["version"],
                last_heartbeat_at=at, updated_at=at)).rowcount
    if not updated:
        session.add(models.Service(last_heartbeat_at=at, **record))


class DBHeartbeat(PeriodicComponent):
    def __init__(self, binary: str, topic: str):
        self.record = service_record(binary, topic)
        super().__init__(f"heartbeat-{binary}", self.beat,
                         lambda: CONF.report_interval)

    def beat(self) -> None:
        try:
            with db_engine.session() as s:
                write_service_heartbeat(s, self.record)
        except sa.exc.IntegrityError:
            # Two first beats raced to insert; the next beat updates.
            LOG.debug("heartbeat insert raced", exc_info=True)


class NotifyHeartbeat(PeriodicComponent):
    """Sends `service.heartbeat`; `extra()` adds what the agent reports with
    it (hva: its hosts' inventory)."""

    def __init__(self, binary: str, topic: str, extra=None):
        from arame.common import rpc
        self.record = service_record(binary, topic)
        self.extra = extra or (lambda: {})
        self.notifier = rpc.get_notifier(f"{binary}.{CONF.host or socket.gethostname()}")
        super().__init__(f"heartbeat-{binary}", self.beat,
                         lambda: CONF.report_interval)

    def beat(self) -> None:
        payload = dict(self.record)
        payload.update(self.extra())
        self.notifier.info({}, "service.heartbeat", payload)
