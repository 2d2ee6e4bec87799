"""Security groups on a hypervisor host.

`Firewall(netns=None)` is the netfilter implementation the libvirt driver
uses (iptables + ipset + ebtables on the host's bridges); `FakeFirewall`
keeps the same contract in memory for unit tests and the fake driver.
"""

from arame.agents.hva.firewall.base import Firewall as FirewallBase
from arame.agents.hva.firewall.fake import FakeFirewall
from arame.agents.hva.firewall.netfilter import NetfilterFirewall
from arame.agents.hva.firewall.port import InvalidPort

Firewall = NetfilterFirewall

__all__ = [
    "FakeFirewall",
    "Firewall",
    "FirewallBase",
    "InvalidPort",
    "NetfilterFirewall",
]
