"""Client proxy of the naming service agent: DHCP reservations and DNS records through dnsmasq (topic `nsa`, server = node name)."""

from arame.common import rpc

TOPIC = "nsa"


class NSAAPI:
    """1.0 - ping"""

    VERSION_CAP = "1.0"

    def __init__(self):
        self.client = rpc.get_client(TOPIC, version_cap=self.VERSION_CAP)

    def ping(self, ctxt, node: str, timeout: float = 10) -> dict:
        return self.client.prepare(server=node, timeout=timeout).call(
            ctxt, "ping")
