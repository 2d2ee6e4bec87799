"""Client proxy of the L3 agent (topic `l3`, server = host name): routers
as network namespaces with their NAT.

Every method is a call with a deadline: the flow that makes it records the
answer (or the failure) as a task event. A router travels whole, as
arame.common.routing.router_message builds it (see the issue 12 contract):
{"id", "gateway": null | {"network", "address", "next_hop"},
"interfaces": [{"network", "address"}], "floating_ips": [{"address",
"fixed_address"}]}. apply_router makes the router exactly that (so asking
again is harmless); remove_router of a router not here succeeds.
"""

from typing import Any

from arame.agents.base import PingAPI
from arame.common import rpc
from arame.common.context import RpcContext

BINARY = "arame-l3"
TOPIC = "l3"


class L3API(PingAPI):
    """1.0 - ping
    1.1 - apply_router, remove_router, status"""

    TOPIC = TOPIC
    VERSION_CAP = "1.1"

    def _call(
        self,
        ctxt: RpcContext,
        host: str,
        method: str,
        timeout: float,
        **kw: Any,
    ) -> Any:
        # Capped at 1.0 (agents of the release before 1.1, which only
        # answered ping): VersionCapped, nothing sent.
        self._require("1.1", method)
        return self.client.prepare(
            server=host, version="1.1", **rpc.deadline(timeout)
        ).call(ctxt, method, **kw)

    def apply_router(
        self, ctxt: RpcContext, host: str, router: dict, timeout: float = 60
    ) -> dict:
        """{"id", "interfaces": n, "floating_ips": n, "gateway": bool}"""
        return self._call(ctxt, host, "apply_router", timeout, router=router)

    def remove_router(
        self, ctxt: RpcContext, host: str, router_id: str, timeout: float = 60
    ) -> dict:
        return self._call(
            ctxt, host, "remove_router", timeout, router_id=router_id
        )

    def status(self, ctxt: RpcContext, host: str, timeout: float = 30) -> dict:
        """{"host", "routers": [ids]}"""
        return self._call(ctxt, host, "status", timeout)
