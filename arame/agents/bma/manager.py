"""RPC endpoint of the bare-metal agent: IPMI power and boot device, PXE/iPXE.

Today it answers `ping` and reports a heartbeat; its operations arrive with
its own issue, behind drivers/ like hva's.
"""

from arame.agents.base import PingManager


class BMAManager(PingManager):
    def __init__(self):
        super().__init__("arame-bma")
