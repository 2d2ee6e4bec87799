"""Client proxy of the naming service agent (topic `nsa`, server = node
name): DHCP reservations and DNS records through dnsmasq.

Every method is a call with a deadline: the flow that makes it records the
answer (or the failure) as a task event. Networks travel as
{"id", "cidr", "gateway", "dhcp_address"?, "dns_domain", "dhcp_ranges",
"mtu", "bridge"}; reservations as {"mac", "ip", "hostname"}.
"""

from arame.agents.base import PingAPI

TOPIC = "nsa"


class NSAAPI(PingAPI):
    """1.0 - ping
    1.1 - ensure_network, remove_network, add_reservation,
          remove_reservation, sync, status"""

    TOPIC = TOPIC
    VERSION_CAP = "1.1"

    def _call(self, ctxt, node: str, method: str, timeout: float, **kw):
        return self.client.prepare(server=node, timeout=timeout,
                                   version="1.1").call(ctxt, method, **kw)

    def ensure_network(self, ctxt, node: str, network: dict,
                       timeout: float = 60) -> dict:
        return self._call(ctxt, node, "ensure_network", timeout,
                          network=network)

    def remove_network(self, ctxt, node: str, network_id: str,
                       timeout: float = 60) -> dict:
        return self._call(ctxt, node, "remove_network", timeout,
                          network_id=network_id)

    def add_reservation(self, ctxt, node: str, network_id: str, mac: str,
                        ip: str, hostname: str, timeout: float = 30) -> dict:
        return self._call(ctxt, node, "add_reservation", timeout,
                          network_id=network_id, mac=mac, ip=ip,
                          hostname=hostname)

    def remove_reservation(self, ctxt, node: str, network_id: str, mac: str,
                           timeout: float = 30) -> dict:
        return self._call(ctxt, node, "remove_reservation", timeout,
                          network_id=network_id, mac=mac)

    def sync(self, ctxt, node: str, network: dict, reservations: list[dict],
             timeout: float = 120) -> dict:
        return self._call(ctxt, node, "sync", timeout, network=network,
                          reservations=reservations)

    def status(self, ctxt, node: str, timeout: float = 30) -> dict:
        return self._call(ctxt, node, "status", timeout)
