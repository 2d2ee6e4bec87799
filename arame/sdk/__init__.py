"""Python SDK for the Arame API.

from arame.sdk import Client

client = Client("http://127.0.0.1:9001")
client.login("admin", "secret")
server = client.instances.create("web1", flavor="m1.small", image="img-3k9x2m0q")
client.tasks.wait(server["task_id"])

In a notebook, ArameSDK offers the VCP SDK's calls (arame.sdk.notebook):

from arame.sdk import ArameSDK
sdk = ArameSDK()
"""

from arame.sdk.client import Client
from arame.sdk.errors import (
    AmbiguousName,
    ArameError,
    ConnectionFailed,
    NotFound,
    TaskFailed,
    TaskTimeout,
)
from arame.sdk.notebook import (
    ArameSDK,
    AuthError,
    Node,
    NodeFailure,
    Spec,
    Unit,
    UnitError,
    UnitGroup,
    WaitTimeout,
)

__all__ = [
    "ArameSDK",
    "AuthError",
    "Node",
    "NodeFailure",
    "Spec",
    "Unit",
    "UnitError",
    "UnitGroup",
    "WaitTimeout",
    "Client",
    "AmbiguousName",
    "ArameError",
    "ConnectionFailed",
    "NotFound",
    "TaskFailed",
    "TaskTimeout",
]
