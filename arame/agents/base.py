"""What the agents sta, nsa and bma share: `ping`, in the client proxy
their rpcapis extend and the manager their managers extend (the deployment
asks it to know an agent answers)."""

import oslo_messaging as messaging

from arame import __version__
from arame.common import rpc
from arame.common.conf import CONF


class PingAPI:
    """Client proxy of an agent that answers `ping` (topic set by subclass,
    server = node name)."""

    VERSION_CAP = "1.0"
    TOPIC: str = ""

    def __init__(self):
        self.client = rpc.get_client(self.TOPIC, version_cap=self.VERSION_CAP)

    def ping(self, ctxt, node: str, timeout: float = 10) -> dict:
        return self.client.prepare(server=node, timeout=timeout).call(
            ctxt, "ping"
        )


class PingManager:
    target = messaging.Target(version="1.0")

    def __init__(self, binary: str):
        self.binary = binary

    def ping(self, ctxt):
        return {
            "host": CONF.host,
            "binary": self.binary,
            "version": __version__,
        }
