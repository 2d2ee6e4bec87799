"""The messages the bare-metal agent takes (issue 13), in one place:
models.BareMetalNode.bmc_message builds the node every call brings, the
manager checks it (checks.node). The wire stays plain dicts; the types
are for mypy and for the reader."""

from typing import Literal, NotRequired, TypedDict


class Node(TypedDict):
    """A node and its BMC's credentials: the agent holds none, every call
    brings them (so they are never in its configuration or its logs)."""

    id: str
    bmc_address: str
    bmc_port: NotRequired[int | None]
    bmc_username: str
    bmc_password: str
    #: "lanplus" when absent
    interface: NotRequired[Literal["lanplus", "lan"] | None]
