"""Python SDK for the Arame API.

from arame.sdk import Client

client = Client("http://127.0.0.1:9001")
client.login("admin", "secret")
server = client.instances.create("web1", flavor="m1.small", image="img-3k9x2m0q")
client.tasks.wait(server["task_id"])
"""

from arame.sdk.client import Client
from arame.sdk.errors import (
    ArameError,
    ConnectionFailed,
    TaskFailed,
    TaskTimeout,
)

__all__ = [
    "Client",
    "ArameError",
    "ConnectionFailed",
    "TaskFailed",
    "TaskTimeout",
]
