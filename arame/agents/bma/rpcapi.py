"""Client proxy of the bare-metal agent: IPMI power and boot device, PXE/iPXE (topic `bma`, server = node name)."""

from arame.common import rpc

TOPIC = "bma"


class BMAAPI:
    """1.0 - ping"""

    VERSION_CAP = "1.0"

    def __init__(self):
        self.client = rpc.get_client(TOPIC, version_cap=self.VERSION_CAP)

    def ping(self, ctxt, node: str, timeout: float = 10) -> dict:
        return self.client.prepare(server=node, timeout=timeout).call(
            ctxt, "ping")
