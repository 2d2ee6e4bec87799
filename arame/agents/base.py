"""What the agents sta, nsa and bma share: `ping`, in the client proxy
their rpcapis extend and the manager their managers extend (the deployment
asks it to know an agent answers)."""

import oslo_messaging as messaging

from arame import __version__
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.rpc import version_cap


class PingAPI:
    """Client proxy of an agent that answers `ping` (topic set by subclass,
    server = node name)."""

    VERSION_CAP = "1.0"  # the newest version the class speaks
    TOPIC: str = ""

    def __init__(self):
        # Capped by [upgrade_levels] <topic> (version_cap): the oldest
        # agent of the kind during a rolling upgrade.
        self.client = rpc.CappedClient(
            self.TOPIC, self.TOPIC, self.VERSION_CAP
        )

    def _require(self, version: str, method: str) -> None:
        """VersionCapped, before anything is sent, when the agents are
        capped below `version`."""
        version_cap.require(self.client, self.TOPIC, version, method)

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
