"""Assemble the nsa daemon: a driver serving the node's networks (again,
from its state directory, before anything else), the RPC server, the
resync with the controller, and a heartbeat carrying the inventory."""

import threading

from oslo_log import log
from stevedore import driver as sv_driver

from arame.agents.nsa.manager import NSAManager
from arame.agents.nsa.resync import Resync
from arame.agents.nsa.rpcapi import BINARY, TOPIC
from arame.collector.rpcapi import CollectorAPI
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.heartbeat import NotifyHeartbeat
from arame.common.service import RPCServerComponent

LOG = log.getLogger(__name__)

DRIVER_NAMESPACE = "arame.nsa.drivers"


def load_driver(name: str | None = None):
    return sv_driver.DriverManager(
        DRIVER_NAMESPACE, name or CONF.nsa.driver, invoke_on_load=True
    ).driver


def collector_fetch_expected(network_ids: list[str]) -> dict:
    """Ask the collector what this node should hold. Its answer:
    {"networks": {id: {"network": {...}, "reservations": [{...}]}}}."""
    answer = CollectorAPI().expected_reservations({}, CONF.host, network_ids)
    return {
        nid: (v["network"], v["reservations"])
        for nid, v in (answer.get("networks") or {}).items()
    }


class NamingService:
    """The RPC server, the resync loop and the driver, started and stopped
    together: the server stops taking calls before the driver stops its
    dnsmasq processes."""

    def __init__(self, manager: NSAManager, fetch_expected=None, server=None):
        self.manager = manager
        self.driver = manager.driver
        self.resync = (
            Resync(manager, fetch_expected) if fetch_expected else None
        )
        self.server = server
        self._stop = threading.Event()
        self._thread = None

    def _loop(self):
        while True:
            try:
                self.resync.run_once()
            except Exception:
                LOG.exception("resync failed")
            interval = CONF.nsa.resync_interval
            if interval <= 0 or self._stop.wait(interval):
                return

    def start(self) -> None:
        if self.server is not None:
            self.server.start()
        if self.resync is not None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, daemon=True, name="nsa-resync"
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.server is not None:
            self.server.stop()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.driver.stop()


def build_components(fetch_expected=collector_fetch_expected) -> list:
    drv = load_driver()
    drv.init_host()
    manager = NSAManager(drv)
    server = RPCServerComponent(
        rpc.get_server(TOPIC, CONF.host, [manager]), name=TOPIC
    )
    # The heartbeat goes last: it is the first thing stopped.
    return [
        NamingService(manager, fetch_expected, server),
        NotifyHeartbeat(BINARY, TOPIC, extra=manager.inventory),
    ]
