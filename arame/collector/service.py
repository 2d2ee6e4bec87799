"""The arame-collector daemon: notifications in, state out, the reaper
and the invariants' check.

Several collectors may run: they share the notification queue (one pool),
and the reaper's and the check's updates are compare-and-set.
"""

from arame.agents.hva.rpcapi import HypervisorAPI
from arame.collector import invariants, reaper
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
        # 0 turns the check off (run() does nothing); the loop still
        # wakes each minute, to see the option set again.
        PeriodicComponent(
            "invariants",
            invariants.run,
            lambda: CONF.collector.invariants_interval or 60,
            run_first=False,
        ),
        DBHeartbeat(BINARY, TOPIC),
    ]
