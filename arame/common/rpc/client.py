import oslo_messaging as messaging

from arame.common.conf import CONF
from arame.common.rpc import serializer, transport


def get_client(
    topic: str,
    server: str | None = None,
    version: str = "1.0",
    version_cap: str | None = None,
    timeout: int | None = None,
):
    """An RPC client for one topic; `.prepare(server=..., timeout=...)` narrows it."""
    target = messaging.Target(topic=topic, server=server, version=version)
    return messaging.get_rpc_client(
        transport.get_transport(),
        target,
        version_cap=version_cap,
        serializer=serializer.Serializer(),
        timeout=timeout,
    )


def deadline(timeout: float) -> dict:
    """prepare() arguments of a call to an agent: its deadline, and the
    call monitor that ends it early when the agent has gone quiet
    ([DEFAULT] rpc_call_monitor_timeout)."""
    watch = CONF.rpc_call_monitor_timeout
    if timeout <= watch:
        return {"timeout": timeout}
    return {"timeout": timeout, "call_monitor_timeout": watch}
