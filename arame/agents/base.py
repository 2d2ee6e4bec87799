"""What the agents still to be filled in (sta, nsa, bma) share for now: an
RPC endpoint that answers `ping`, and a heartbeat, so the deployment and the
host list show them. Each agent's issue gives it its real operations."""

import oslo_messaging as messaging

from arame import __version__
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.heartbeat import NotifyHeartbeat
from arame.common.service import RPCServerComponent


class PingAPI:
    """Client proxy of an agent that answers `ping` (topic set by subclass,
    server = node name)."""

    VERSION_CAP = "1.0"
    TOPIC: str = ""

    def __init__(self):
        self.client = rpc.get_client(self.TOPIC, version_cap=self.VERSION_CAP)

    def ping(self, ctxt, node: str, timeout: float = 10) -> dict:
        return self.client.prepare(server=node, timeout=timeout).call(
            ctxt, "ping")


class PingManager:
    target = messaging.Target(version="1.0")

    def __init__(self, binary: str):
        self.binary = binary

    def ping(self, ctxt):
        return {"host": CONF.host, "binary": self.binary,
                "version": __version__}


def agent_components(binary: str, topic: str, manager) -> list:
    server = rpc.get_server(topic, CONF.host, [manager])
    return [RPCServerComponent(server, topic), NotifyHeartbeat(binary, topic)]
