"""Client proxy of the naming service agent (topic `nsa`, server = node
name): DHCP reservations and DNS records through dnsmasq.

Every method is a call with a deadline: the flow that makes it records the
answer (or the failure) as a task event. Networks travel as
{"id", "cidr", "gateway", "dhcp_address"?, "dns_domain", "dhcp_ranges",
"mtu", "bridge", "segmentation"?, "segment_id"?} (the last two: the bridge's
segment port, as hva makes it; an older nsa ignores them); reservations as
{"mac", "ip", "hostname", "boot_script"?} (an iPXE script served to that
MAC over TFTP: bare-metal nodes). Their types: messages.py.
"""

from typing import Any

from arame.agents.base import PingAPI
from arame.agents.nsa import messages
from arame.common import rpc
from arame.common.context import RpcContext
from arame.common.rpc import version_cap

BINARY = "arame-nsa"
TOPIC = "nsa"


class NSAAPI(PingAPI):
    """1.0 - ping
    1.1 - ensure_network, remove_network, add_reservation,
          remove_reservation, sync, status
    1.2 - reservations may carry boot_script
    1.3 - add_reservation may carry its network (served first)"""

    TOPIC = TOPIC
    VERSION_CAP = "1.3"

    def _call(
        self,
        ctxt: RpcContext,
        node: str,
        method: str,
        timeout: float,
        version: str = "1.1",
        **kw: Any,
    ) -> Any:
        # 1.1 unless the message needs 1.2: agents not yet upgraded still
        # serve every virtual machine. Capped below `version`:
        # VersionCapped, nothing sent (a boot script has no older form: a
        # reservation without it would boot the node from nothing).
        self._require(version, method)
        return self.client.prepare(
            server=node, version=version, **rpc.deadline(timeout)
        ).call(ctxt, method, **kw)

    def ensure_network(
        self,
        ctxt: RpcContext,
        node: str,
        network: messages.NetworkSpec,
        timeout: float = 60,
    ) -> dict:
        return self._call(
            ctxt, node, "ensure_network", timeout, network=network
        )

    def remove_network(
        self, ctxt: RpcContext, node: str, network_id: str, timeout: float = 60
    ) -> dict:
        return self._call(
            ctxt, node, "remove_network", timeout, network_id=network_id
        )

    def add_reservation(
        self,
        ctxt: RpcContext,
        node: str,
        network_id: str,
        mac: str,
        ip: str,
        hostname: str,
        timeout: float = 30,
        boot_script: str | None = None,
    ) -> dict:
        if boot_script is None:
            return self._call(
                ctxt,
                node,
                "add_reservation",
                timeout,
                network_id=network_id,
                mac=mac,
                ip=ip,
                hostname=hostname,
            )
        return self._call(
            ctxt,
            node,
            "add_reservation",
            timeout,
            version="1.2",
            network_id=network_id,
            mac=mac,
            ip=ip,
            hostname=hostname,
            boot_script=boot_script,
        )

    def name_port(
        self,
        ctxt: RpcContext,
        node: str,
        network: messages.NetworkSpec,
        mac: str,
        ip: str,
        hostname: str,
        timeout: float = 30,
    ) -> dict:
        """The port's network served and its reservation made: one call
        (1.3), or ensure_network then add_reservation to an older nsa.
        Both are idempotent, so a caller that got no answer asks again."""
        if not version_cap.allows(self.client, "1.3"):
            self.ensure_network(ctxt, node, network, timeout=timeout)
            return self.add_reservation(
                ctxt, node, network["id"], mac, ip, hostname, timeout=timeout
            )
        return self._call(
            ctxt,
            node,
            "add_reservation",
            timeout,
            version="1.3",
            network_id=network["id"],
            mac=mac,
            ip=ip,
            hostname=hostname,
            network=network,
        )

    def remove_reservation(
        self,
        ctxt: RpcContext,
        node: str,
        network_id: str,
        mac: str,
        timeout: float = 30,
    ) -> dict:
        return self._call(
            ctxt,
            node,
            "remove_reservation",
            timeout,
            network_id=network_id,
            mac=mac,
        )

    def sync(
        self,
        ctxt: RpcContext,
        node: str,
        network: messages.NetworkSpec,
        reservations: list[messages.Reservation],
        timeout: float = 120,
    ) -> dict:
        version = (
            "1.2" if any(r.get("boot_script") for r in reservations) else "1.1"
        )
        return self._call(
            ctxt,
            node,
            "sync",
            timeout,
            version=version,
            network=network,
            reservations=reservations,
        )

    def status(self, ctxt: RpcContext, node: str, timeout: float = 30) -> dict:
        return self._call(ctxt, node, "status", timeout)
