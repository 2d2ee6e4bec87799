"""Assemble the L3 daemon: the router driver, the RPC server, the resync
with the controller (at start, then every [l3] resync_interval) and a
heartbeat carrying the number of routers."""

import importlib

from arame.agents.l3.manager import L3Manager
from arame.agents.l3.resync import Resync
from arame.agents.l3.rpcapi import BINARY, TOPIC
from arame.collector.rpcapi import CollectorAPI
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.heartbeat import NotifyHeartbeat
from arame.common.service import PeriodicComponent, RPCServerComponent

# [l3] driver -> the class (an option with choices: nothing else loads).
DRIVERS = {
    "netns": "arame.agents.l3.drivers.netns:NetnsRouterDriver",
    "fake": "arame.agents.l3.drivers.fake:FakeRouterDriver",
}


def load_driver(name: str | None = None):
    """The [l3] driver, built from the [l3] options where it reads them
    (from_conf)."""
    module, _, name = DRIVERS[name or CONF.l3.driver].partition(":")
    cls = getattr(importlib.import_module(module), name)
    from_conf = getattr(cls, "from_conf", None)
    return from_conf(CONF) if from_conf is not None else cls()


def collector_fetch_expected() -> dict:
    """Ask the collector which routers this host holds. Its answer:
    {"routers": {id: message}}."""
    answer = CollectorAPI().expected_routers({}, CONF.host)
    return dict(answer.get("routers") or {})


class RouterService:
    """The RPC server and the resync rounds (at start, then every
    `[l3] resync_interval`; 0: at start only), started and stopped
    together."""

    def __init__(self, manager: L3Manager, fetch_expected=None, server=None):
        self.manager = manager
        self.resync = (
            Resync(manager, fetch_expected) if fetch_expected else None
        )
        self.server = server
        self._rounds = (
            PeriodicComponent(
                "l3-resync",
                self.resync.run_once,
                lambda: CONF.l3.resync_interval,
            )
            if self.resync is not None
            else None
        )

    def start(self) -> None:
        if self.server is not None:
            self.server.start()
        if self._rounds is not None:
            self._rounds.start()

    def stop(self) -> None:
        # Routers stay up when the agent stops: guests keep their way out
        # across an upgrade; the next start's resync brings them in line.
        if self.server is not None:
            self.server.stop()
        if self._rounds is not None:
            self._rounds.stop()


def build_components(
    fetch_expected=collector_fetch_expected, driver=None
) -> list:
    manager = L3Manager(driver if driver is not None else load_driver())
    server = RPCServerComponent(
        rpc.get_server(TOPIC, CONF.host, [manager]), name=TOPIC
    )
    # The heartbeat goes last: it is the first thing stopped.
    return [
        RouterService(manager, fetch_expected, server),
        NotifyHeartbeat(BINARY, TOPIC, extra=manager.inventory),
    ]
