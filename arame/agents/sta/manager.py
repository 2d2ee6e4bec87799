"""RPC endpoint of the storage target agent: ZFS volumes, snapshots, clones, iSCSI export.

Today it answers `ping` and reports a heartbeat; its operations arrive with
its own issue, behind drivers/ like hva's.
"""

from arame.agents.base import PingManager


class STAManager(PingManager):
    def __init__(self):
        super().__init__("arame-sta")
