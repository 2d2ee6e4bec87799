"""Assemble the sta daemon: a storage backend and an iSCSI target driver
picked by name from [sta] (stevedore entry points), the manager over both,
its RPC server, the image data endpoint (data_server.py), and a heartbeat
carrying the pool's capacity and the data endpoint's URL."""

from stevedore import driver as sv_driver

from arame.agents.sta.data_server import DataEndpoint, DataServer
from arame.agents.sta.manager import RPCEndpoint, STAManager
from arame.agents.sta.rpcapi import BINARY, TOPIC
from arame.collector.rpcapi import CollectorAPI
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.heartbeat import NotifyHeartbeat
from arame.common.service import PeriodicComponent, RPCServerComponent

BACKENDS = "arame.sta.backends"
TARGETS = "arame.sta.targets"


def _load(namespace: str, name: str):
    cls = sv_driver.DriverManager(namespace, name).driver
    return cls.from_config(CONF)


def load_backend():
    return _load(BACKENDS, CONF.sta.backend)


def load_target():
    return _load(TARGETS, CONF.sta.target)


def build_manager() -> STAManager:
    backend = load_backend()
    backend.init_host()
    iscsi = load_target()
    iscsi.init_host()
    return STAManager(
        backend,
        iscsi,
        max_volume_gb=CONF.sta.max_volume_gb,
        import_dirs=CONF.sta.import_dirs,
    )


def build_data_server(mgr: STAManager) -> DataServer:
    """The image data endpoint (HTTP in a thread): bytes from the API."""
    return DataServer(
        mgr.images,
        node=CONF.host,
        secret=CONF.storage_data.ticket_secret,
        address=CONF.sta.data_address,
        port=CONF.sta.data_port,
        url=CONF.sta.data_url,
        timeout=CONF.storage_data.node_timeout,
    )


def export_keeper(mgr: STAManager, collector=None) -> PeriodicComponent:
    """The start-up resync and the periodic check that tgtd still holds
    the exports (it keeps them in memory only, see
    STAManager.check_exports); what to export comes from the collector's
    records (expected_exports)."""
    collector = collector or CollectorAPI()

    def fetch() -> dict:
        return collector.expected_exports(
            {}, CONF.host, timeout=CONF.sta.expected_exports_timeout
        )

    return PeriodicComponent(
        "sta-exports",
        lambda: mgr.check_exports(fetch),
        lambda: CONF.sta.export_check_interval,
    )


def build_components() -> tuple[list, STAManager]:
    mgr = build_manager()
    data = build_data_server(mgr)
    server = rpc.get_server(
        TOPIC, CONF.host, [RPCEndpoint(mgr), DataEndpoint(data)]
    )

    def inventory() -> dict:
        return {**mgr.inventory(), "data_url": data.url}

    # The heartbeat goes last: the node must consume its queue before the
    # scheduler hears of it (and the heartbeat is the first thing stopped).
    # The data server goes first: its URL is answered over RPC.
    return [
        data,
        RPCServerComponent(server, TOPIC),
        export_keeper(mgr),
        NotifyHeartbeat(BINARY, TOPIC, extra=inventory),
    ], mgr
