"""Heartbeats: every daemon says it is alive every [DEFAULT] report_interval.

Agents hold no DB credentials: they send a `service.heartbeat`
notification (this module) that the collector writes. Daemons with
database access (api, scheduler, collector) write their own row
(arame.common.db.services.DBHeartbeat), as Nova's servicegroup does.
"""

import socket

from arame import __version__
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.rpc import version_cap
from arame.common.service import PeriodicComponent


def service_record(binary: str, topic: str, host: str | None = None) -> dict:
    """`rpc_version`: the RPC API version this process's server of `topic`
    serves (None: it serves none, as the api); the others' version caps
    are the oldest of these ([upgrade_levels])."""
    return {
        "host": host or CONF.host,
        "binary": binary,
        "topic": topic,
        "version": __version__,
        "rpc_version": version_cap.served(topic),
    }


class NotifyHeartbeat(PeriodicComponent):
    """Sends `service.heartbeat`; `extra()` adds what the agent reports with
    it (hva: its hosts' inventory)."""

    def __init__(self, binary: str, topic: str, extra=None):
        self.record = service_record(binary, topic)
        self.topic = topic
        self.extra = extra or (lambda: {})
        self.notifier = rpc.get_notifier(
            f"{binary}.{CONF.host or socket.gethostname()}"
        )
        super().__init__(
            f"heartbeat-{binary}", self.beat, lambda: CONF.report_interval
        )

    def beat(self) -> None:
        # The server may be made after this component: ask each beat.
        payload = {
            **self.record,
            "rpc_version": version_cap.served(self.topic),
        }
        payload.update(self.extra())
        self.notifier.info({}, "service.heartbeat", payload)
