"""The arame-scheduler daemon: the scheduler topic's RPC server. Run several
for throughput or availability; claims keep them from colliding."""

from arame.common import rpc
from arame.common.conf import CONF
from arame.common.db.services import DBHeartbeat
from arame.common.service import RPCServerComponent
from arame.scheduler.auto_evacuate import AutoEvacuator
from arame.scheduler.manager import SchedulerManager
from arame.scheduler.rpcapi import TOPIC
from arame.scheduler.sweeper import Sweeper

BINARY = "arame-scheduler"


def build_components() -> list:
    manager = SchedulerManager(
        notifier=rpc.get_notifier(f"{BINARY}.{CONF.host}")
    )
    server = rpc.get_server(TOPIC, CONF.host, [manager])
    comp = RPCServerComponent(server, TOPIC)
    comp.reset = manager.reset
    return [
        comp,
        DBHeartbeat(BINARY, TOPIC),
        Sweeper(manager),
        # Acts only with [ha] auto_evacuate, one scheduler at a time.
        AutoEvacuator(manager.leases.owner),
    ]
