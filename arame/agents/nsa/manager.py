"""RPC endpoint of the naming service agent: DHCP reservations and DNS records through dnsmasq.

Today it answers `ping` and reports a heartbeat; its operations arrive with
its own issue, behind drivers/ like hva's.
"""

from arame.agents.base import PingManager


class NSAManager(PingManager):
    def __init__(self):
        super().__init__("arame-nsa")
