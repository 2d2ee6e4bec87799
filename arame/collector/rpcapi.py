"""Client proxy of the collector's RPC endpoint: the agents' "what should I
hold?" questions (topic `collector`)."""

from arame.common import rpc

TOPIC = "collector"


class CollectorAPI:
    """1.0 - expected_instances, expected_reservations"""

    VERSION_CAP = "1.0"

    def __init__(self):
        self.client = rpc.get_client(TOPIC, version_cap=self.VERSION_CAP)

    def expected_instances(self, ctxt, host: str, timeout: float = 30) -> dict:
        return self.client.prepare(timeout=timeout).call(
            ctxt, "expected_instances", host=host)

    def expected_reservations(self, ctxt, host: str, network_ids: list[str],
                              timeout: float = 60) -> dict:
        return self.client.prepare(timeout=timeout).call(
            ctxt, "expected_reservations", host=host, network_ids=network_ids)
