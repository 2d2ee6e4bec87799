"""Client proxy of the collector's RPC endpoint: the agents' "what should I
hold?" questions (topic `collector`)."""

from arame.common import rpc
from arame.common.context import RpcContext

TOPIC = "collector"


class CollectorAPI:
    """1.0 - expected_instances, expected_reservations
    1.1 - expected_exports
    1.2 - fetch_nodes"""

    VERSION_CAP = "1.2"

    def __init__(self) -> None:
        self.client = rpc.get_client(TOPIC, version_cap=self.VERSION_CAP)

    def expected_instances(
        self, ctxt: RpcContext, host: str, timeout: float = 30
    ) -> dict:
        return self.client.prepare(timeout=timeout).call(
            ctxt, "expected_instances", host=host
        )

    def expected_reservations(
        self,
        ctxt: RpcContext,
        host: str,
        network_ids: list[str],
        timeout: float = 60,
    ) -> dict:
        return self.client.prepare(timeout=timeout).call(
            ctxt, "expected_reservations", host=host, network_ids=network_ids
        )

    def expected_exports(
        self, ctxt: RpcContext, node: str, timeout: float = 30
    ) -> dict:
        """{"exports": [{"volume_id", "iqn", "initiator_address",
        "chap_user", "chap_password"}]}"""
        return self.client.prepare(timeout=timeout, version="1.1").call(
            ctxt, "expected_exports", node=node
        )

    def fetch_nodes(
        self, ctxt: RpcContext, host: str, timeout: float = 30
    ) -> list:
        """The nodes `host`'s bma drives, BMC credentials included."""
        return self.client.prepare(version="1.2", timeout=timeout).call(
            ctxt, "fetch_nodes", host=host
        )
