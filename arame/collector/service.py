"""The arame-collector daemon: notifications in, state out, and the reaper.

Several collectors may run: they share the notification queue (one pool),
and the reaper's updates are compare-and-set.
"""

from arame.agents.hva.rpcapi import HypervisorAPI
from arame.collector import reaper
from arame.collector.manager import (
    TOPIC,
    CollectorManager,
    NotificationEndpoint,
)
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.db.services import DBHeartbeat
from arame.common.rpc.notifier import TOPIC as NOTIFICATIONS
from arame.common.service import PeriodicComponent, RPCServerComponent

BINARY = "arame-collector"


def build_components() -> list:
    listener = rpc.get_notification_listener(
        [NOTIFICATIONS],
        [NotificationEndpoint(hva=HypervisorAPI())],
        pool="arame-collector",
    )
    server = rpc.get_server(TOPIC, CONF.host, [CollectorManager()])
    return [
        RPCServerComponent(listener, "notifications"),
        RPCServerComponent(server, TOPIC),
        PeriodicComponent(
            "reaper",
            reaper.reap,
            lambda: CONF.collector.reaper_interval,
            run_first=False,
        ),
        DBHeartbeat(BINARY, TOPIC),
    ]
