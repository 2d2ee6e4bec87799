"""Client proxy of the bare-metal agent: IPMI power and boot device, PXE/iPXE (topic `bma`, server = node name)."""

from arame.agents.base import PingAPI

TOPIC = "bma"


class BMAAPI(PingAPI):
    """1.0 - ping"""

    TOPIC = TOPIC
