"""Client proxy of the naming service agent: DHCP reservations and DNS records through dnsmasq (topic `nsa`, server = node name)."""

from arame.agents.base import PingAPI

TOPIC = "nsa"


class NSAAPI(PingAPI):
    """1.0 - ping"""

    TOPIC = TOPIC
