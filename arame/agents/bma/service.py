"""Assemble the bma daemon: the hardware driver picked by name from
`[bma] driver` (stevedore entry points `arame.bma.drivers`), the manager
over it, its RPC server, the power sync (when given the controller's node
list) and a heartbeat."""

from stevedore import driver as sv_driver

from arame.agents.bma.manager import BMAManager, RPCEndpoint
from arame.agents.bma.power import Timing
from arame.agents.bma.power_sync import PowerSync
from arame.agents.bma.rpcapi import BINARY, TOPIC
from arame.collector.rpcapi import CollectorAPI
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.heartbeat import NotifyHeartbeat
from arame.common.service import PeriodicComponent, RPCServerComponent

DRIVER_NAMESPACE = "arame.bma.drivers"


def _load(namespace: str, name: str):
    cls = sv_driver.DriverManager(namespace, name).driver
    return cls.from_config(CONF)


def load_driver(name: str | None = None):
    return _load(DRIVER_NAMESPACE, name or CONF.bma.driver)


def build_manager(driver=None) -> BMAManager:
    return BMAManager(
        driver or load_driver(),
        Timing.from_config(CONF),
        default_interface=CONF.bma.default_interface,
        notifier=rpc.get_notifier(f"{BINARY}.{CONF.host}"),
        host=CONF.host,
    )


def collector_nodes(host: str, timeout: float = 30):
    """`fetch_nodes` as the daemon has it: the collector's list of the
    nodes this agent drives, asked over RPC at every sync round (the agent
    holds no credentials between rounds)."""
    api = CollectorAPI()
    return lambda: api.fetch_nodes({}, host, timeout=timeout)


def daemon_components(driver=None) -> list:
    """The daemon's components: the power sync watches the nodes the
    controller assigns to this host."""
    return build_components(
        fetch_nodes=collector_nodes(CONF.host), driver=driver
    )


def build_components(fetch_nodes=None, driver=None) -> list:
    """`fetch_nodes() -> [node]`: the nodes this agent watches, with their
    BMC credentials (the lead wires it to the collector); None: no power
    sync."""
    mgr = build_manager(driver)
    server = rpc.get_server(TOPIC, CONF.host, [RPCEndpoint(mgr)])
    components = [RPCServerComponent(server, TOPIC)]
    if fetch_nodes is not None and CONF.bma.power_sync_interval > 0:
        sync = PowerSync(mgr, fetch_nodes, CONF.bma.power_sync_workers)
        components.append(
            PeriodicComponent(
                "bma-power-sync",
                sync.run_once,
                lambda: CONF.bma.power_sync_interval,
            )
        )
    # The heartbeat goes last: it is the first thing stopped.
    components.append(NotifyHeartbeat(BINARY, TOPIC, extra=mgr.inventory))
    return components
