"""Assemble the sta daemon: a storage backend and an iSCSI target driver
picked by name from [sta] (stevedore entry points), the manager over both,
its RPC server, and a heartbeat carrying the pool's capacity."""

from stevedore import driver as sv_driver

from arame.agents.sta.manager import RPCEndpoint, STAManager
from arame.agents.sta.rpcapi import TOPIC
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.heartbeat import NotifyHeartbeat
from arame.common.service import RPCServerComponent

BINARY = "arame-sta"
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
    return STAManager(backend, iscsi, max_volume_gb=CONF.sta.max_volume_gb,
                      import_dirs=CONF.sta.import_dirs)


def build_components() -> tuple[list, STAManager]:
    mgr = build_manager()
    server = rpc.get_server(TOPIC, CONF.host, [RPCEndpoint(mgr)])
    # The heartbeat goes last: the node must consume its queue before the
    # scheduler hears of it (and the heartbeat is the first thing stopped).
    return [RPCServerComponent(server, TOPIC),
            NotifyHeartbeat(BINARY, TOPIC, extra=mgr.inventory)], mgr
