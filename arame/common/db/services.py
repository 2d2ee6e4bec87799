"""The services table: who wrote a heartbeat, and who is alive.

The collector writes the agents' heartbeats (their notifications), the
api, scheduler and collector write their own (DBHeartbeat); the flows and
the API ask which daemons of a kind are up (live_hosts).
"""

import datetime as dt

import sqlalchemy as sa
from oslo_log import log

from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models, prepared
from arame.common.db import retry as db_retry
from arame.common.heartbeat import service_record
from arame.common.rpc import version_cap
from arame.common.service import PeriodicComponent

LOG = log.getLogger(__name__)


def write_service_heartbeat(session, record: dict, at=None) -> None:
    """Upsert one service row; portable across MySQL and SQLite."""
    at = at or models.utcnow()
    updated = session.execute(
        sa.update(models.Service)
        .where(
            models.Service.host == record["host"],
            models.Service.binary == record["binary"],
        )
        .values(
            topic=record["topic"],
            version=record["version"],
            rpc_version=record.get("rpc_version"),
            last_heartbeat_at=at,
            updated_at=at,
        )
    ).rowcount
    if not updated:
        session.add(models.Service(last_heartbeat_at=at, **record))


def live_hosts(session, binary: str) -> list[str]:
    """Hosts of the daemons `binary` that reported within service_down_time."""
    since = models.utcnow() - dt.timedelta(seconds=CONF.service_down_time)
    return sorted(
        session.scalars(
            _LIVE_HOSTS, prepared.params(binary=binary, since=since)
        )
    )


# Every build asks it (naming, root volumes): built once (db/prepared.py).
_S = models.Service.__table__
_LIVE_HOSTS = sa.select(_S.c.host).where(
    _S.c.binary == prepared.bound("binary"),
    _S.c.disabled.is_(False),
    _S.c.last_heartbeat_at >= prepared.bound("since"),
)


class DBHeartbeat(PeriodicComponent):
    def __init__(self, binary: str, topic: str):
        # A daemon with the database: its [upgrade_levels] "auto" caps
        # come from the services table, read again by beat().
        version_cap.read_services_table()
        self.record = service_record(binary, topic)
        self.topic = topic
        super().__init__(
            f"heartbeat-{binary}", self.beat, lambda: CONF.report_interval
        )

    def beat(self) -> None:
        # The server may be made after this component: ask each beat.
        record = {**self.record, "rpc_version": version_cap.served(self.topic)}
        try:
            with db_engine.session() as s:
                write_service_heartbeat(s, record)
        except sa.exc.IntegrityError:
            # Two first beats raced to insert; the next beat updates.
            LOG.debug("heartbeat insert raced", exc_info=True)
        except sa.exc.DBAPIError as e:
            if not db_retry.is_transient(e):
                raise
            LOG.warning("heartbeat skipped: database unavailable: %s", e)
            return
        # Here, on the heartbeat's thread, not on a message's way.
        version_cap.refresh(force=False)
