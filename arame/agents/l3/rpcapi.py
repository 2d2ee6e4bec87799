"""Client proxy of the L3 agent (topic `l3`, server = host name): routers
as network namespaces with their NAT.

Every method is a call with a deadline: the flow that makes it records the
answer (or the failure) as a task event. A router travels whole, as
arame.common.routing.router_message builds it (see the issue 12 contract):
{"id", "gateway": null | {"network", "address", "next_hop"},
"interfaces": [{"network", "address"}], "floating_ips": [{"address",
"fixed_address"}]} (messages.Router). apply_router makes the router exactly that (so asking
again is harmless); remove_router of a router not here succeeds.

1.2 adds deltas for one floating IP (add_floating_ip, remove_floating_ip),
applied to the spec the agent last applied to the router; when it holds
none the answer says {"applied": false} and the caller sends the full
state. Capped below 1.2 (an agent not yet upgraded), they raise
VersionCapped (an UnsupportedVersion) before anything is sent, as an
older agent answers: the caller sends the full state then too.
"""

from typing import Any

from arame.agents.base import PingAPI
from arame.agents.l3 import messages
from arame.common import rpc
from arame.common.context import RpcContext

BINARY = "arame-l3"
TOPIC = "l3"


class L3API(PingAPI):
    """1.0 - ping
    1.1 - apply_router, remove_router, status
    1.2 - add_floating_ip, remove_floating_ip"""

    TOPIC = TOPIC
    VERSION_CAP = "1.2"

    def _call(
        self,
        ctxt: RpcContext,
        host: str,
        method: str,
        timeout: float,
        version: str = "1.1",
        **kw: Any,
    ) -> Any:
        # Capped below `version` (agents of an older release; 1.0 only
        # answered ping): VersionCapped, nothing sent.
        self._require(version, method)
        return self.client.prepare(
            server=host, version=version, **rpc.deadline(timeout)
        ).call(ctxt, method, **kw)

    def apply_router(
        self,
        ctxt: RpcContext,
        host: str,
        router: messages.Router,
        timeout: float = 60,
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

    def add_floating_ip(
        self,
        ctxt: RpcContext,
        host: str,
        router_id: str,
        floating_ip: messages.FloatingIp,
        timeout: float = 30,
    ) -> dict:
        """1.2: floating_ip {"address", "fixed_address"} mapped on the
        router. {"id", "applied": bool, ...}: not applied, send the full
        state (apply_router)."""
        return self._call(
            ctxt,
            host,
            "add_floating_ip",
            timeout,
            version="1.2",
            router_id=router_id,
            floating_ip=floating_ip,
        )

    def remove_floating_ip(
        self,
        ctxt: RpcContext,
        host: str,
        router_id: str,
        address: str,
        timeout: float = 30,
    ) -> dict:
        """1.2: floating IP `address` unmapped on the router (its flows
        cut). As add_floating_ip's answer."""
        return self._call(
            ctxt,
            host,
            "remove_floating_ip",
            timeout,
            version="1.2",
            router_id=router_id,
            address=address,
        )
