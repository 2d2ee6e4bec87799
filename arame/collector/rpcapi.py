"""Client proxy of the collector's RPC endpoint: the agents' "what should I
hold?" questions (topic `collector`)."""

from typing import Any

import oslo_messaging as messaging
import tenacity

from arame.common import rpc
from arame.common.context import RpcContext
from arame.common.rpc import version_cap

TOPIC = "collector"
#: Each question is asked again after this long without an answer. An agent
#: asks them as it starts, often before the collector has declared its
#: queue: the broker drops a call nobody's queue is bound for, and a single
#: long wait would hold the agent (and its stop) for the whole timeout.
ATTEMPT_TIMEOUT = 3.0


class CollectorAPI:
    """1.0 - expected_instances, expected_reservations
    1.1 - expected_exports
    1.2 - fetch_nodes
    1.3 - expected_instances says which instances to compare ("compare")
    1.4 - expected_routers

    Capped below a question's version, it raises VersionCapped (an
    UnsupportedVersion naming the version) and asks nothing: no question
    has an older form."""

    VERSION_CAP = "1.4"  # the newest version the class speaks

    def __init__(self) -> None:
        # Agents ask: they hold no database, so [upgrade_levels] collector
        # "auto" is the newest (collectors are upgraded before agents);
        # pin it on the agents' hosts to upgrade them first.
        self.client = rpc.CappedClient(
            "collector", TOPIC, self.VERSION_CAP, from_services=False
        )

    def _ask(
        self,
        ctxt: RpcContext,
        method: str,
        timeout: float,
        version: str | None = None,
        **kw: Any,
    ) -> Any:
        """Every question here is a read: asking it again is harmless, so a
        lost call costs one attempt, not the whole timeout."""
        extra = {}
        if version:
            version_cap.require(self.client, "collector", version, method)
            extra["version"] = version
        for attempt in tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(messaging.MessagingTimeout),
            stop=tenacity.stop_after_delay(timeout),
            reraise=True,
        ):
            with attempt:
                return self.client.prepare(
                    timeout=min(ATTEMPT_TIMEOUT, timeout), **extra
                ).call(ctxt, method, **kw)

    def expected_instances(
        self, ctxt: RpcContext, host: str, timeout: float = 30
    ) -> dict:
        """{"instances": {id: {"status", "power_state", "compare"}}}; a
        collector before 1.3 leaves out `compare`."""
        return self._ask(ctxt, "expected_instances", timeout, host=host)

    def expected_reservations(
        self,
        ctxt: RpcContext,
        host: str,
        network_ids: list[str],
        timeout: float = 60,
    ) -> dict:
        return self._ask(
            ctxt,
            "expected_reservations",
            timeout,
            host=host,
            network_ids=network_ids,
        )

    def expected_exports(
        self, ctxt: RpcContext, node: str, timeout: float = 30
    ) -> dict:
        """{"exports": [{"volume_id", "iqn", "initiator_address",
        "chap_user", "chap_secret"}]} (arame.agents.sta.messages.Export;
        each also under chap_password, for an sta older than 1.3)"""
        return self._ask(
            ctxt, "expected_exports", timeout, version="1.1", node=node
        )

    def fetch_nodes(
        self, ctxt: RpcContext, host: str, timeout: float = 30
    ) -> list:
        """The nodes `host`'s bma drives, BMC credentials included."""
        return self._ask(
            ctxt, "fetch_nodes", timeout, version="1.2", host=host
        )

    def expected_routers(
        self, ctxt: RpcContext, host: str, timeout: float = 60
    ) -> dict:
        """{"routers": {id: message}}: every router `host`'s L3 agent
        holds, as arame.common.routing.router_message builds it."""
        return self._ask(
            ctxt, "expected_routers", timeout, version="1.4", host=host
        )
