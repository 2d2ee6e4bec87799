"""Client proxy of the bare-metal agent: power and boot device of nodes
through their BMC (topic `bma`, server = the agent's host name).

`node` is {"id": "bm-…", "bmc_address", "bmc_port", "bmc_username",
"bmc_password", "interface"?: "lanplus" | "lan"} (messages.Node): the
agent holds no credentials, every call brings them.

Every method is a call with a deadline. Give power operations room: the
agent waits for the node to get there ([bma] power_state_timeout, and
soft_power_off_timeout before a soft power off turns hard) and retries a
BMC that does not answer ([bma] call_attempts). Failures arrive as
RemoteError whose exc_type names a class of arame.agents.bma.errors:
InvalidNode, BMCUnreachable, BMCAuthFailed, BMCBusy, BMCCommandRefused,
PowerStateTimeout; the message is fit for the node's status_reason.
"""

from typing import Any

from arame.agents.base import PingAPI
from arame.agents.bma import messages
from arame.common import rpc
from arame.common.context import RpcContext

BINARY = "arame-bma"
TOPIC = "bma"


class BMAAPI(PingAPI):
    """1.0 - ping
    1.1 - validate, power_on, power_off, soft_power_off, reboot,
          get_power_state, set_boot_device"""

    VERSION_CAP = "1.1"
    TOPIC = TOPIC

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

    def validate(
        self, ctxt: RpcContext, host: str, node: messages.Node, timeout: float
    ) -> dict:
        """{"power_state", "boot_devices"}: the BMC answers."""
        return self._call(ctxt, host, "validate", timeout, node=node)

    def get_power_state(
        self, ctxt: RpcContext, host: str, node: messages.Node, timeout: float
    ) -> str:
        """ "on" or "off"."""
        return self._call(ctxt, host, "get_power_state", timeout, node=node)

    def power_on(
        self, ctxt: RpcContext, host: str, node: messages.Node, timeout: float
    ) -> dict:
        """{"power_state": "on", "changed"}"""
        return self._call(ctxt, host, "power_on", timeout, node=node)

    def power_off(
        self, ctxt: RpcContext, host: str, node: messages.Node, timeout: float
    ) -> dict:
        """Hard. {"power_state": "off", "changed"}"""
        return self._call(ctxt, host, "power_off", timeout, node=node)

    def soft_power_off(
        self, ctxt: RpcContext, host: str, node: messages.Node, timeout: float
    ) -> dict:
        """ACPI, hard after a deadline. {"power_state": "off", "changed",
        "forced"}"""
        return self._call(ctxt, host, "soft_power_off", timeout, node=node)

    def reboot(
        self, ctxt: RpcContext, host: str, node: messages.Node, timeout: float
    ) -> dict:
        """Hard off (if on) then on. {"power_state": "on", "changed"}"""
        return self._call(ctxt, host, "reboot", timeout, node=node)

    def set_boot_device(
        self,
        ctxt: RpcContext,
        host: str,
        node: messages.Node,
        device: str,
        timeout: float,
        persistent: bool = False,
    ) -> dict:
        """device "pxe" or "disk". {"boot_device", "persistent"}"""
        return self._call(
            ctxt,
            host,
            "set_boot_device",
            timeout,
            node=node,
            device=device,
            persistent=persistent,
        )
