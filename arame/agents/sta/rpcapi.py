"""Client proxy of the storage target agent: ZFS volumes, snapshots, clones, iSCSI export (topic `sta`, server = node name)."""

from arame.agents.base import PingAPI

TOPIC = "sta"


class STAAPI(PingAPI):
    """1.0 - ping"""

    TOPIC = TOPIC
