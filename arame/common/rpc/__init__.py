"""A thin layer over oslo.messaging: transports, clients, servers, notifier.

from arame.common import rpc
client = rpc.get_client("scheduler", version_cap="1.0")
client.prepare(timeout=30).call(ctxt, "ping")
server = rpc.get_server("hva", host, [manager])
"""

from arame.common.rpc.client import deadline, get_client  # noqa: F401
from arame.common.rpc.notifier import get_notifier  # noqa: F401
from arame.common.rpc.server import get_notification_listener, get_server  # noqa: F401
from arame.common.rpc.transport import (  # noqa: F401
    cleanup,
    get_notification_transport,
    get_transport,
    init,
)
from arame.common.rpc.version_cap import (  # noqa: F401
    CappedClient,
    VersionCapped,
)
