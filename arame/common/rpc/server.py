import oslo_messaging as messaging
from oslo_messaging.rpc import dispatcher

from arame.common.rpc import serializer, transport, version_cap


def get_server(topic: str, server: str, endpoints: list):
    """An RPC server on `topic` (shared queue) and `topic.server` (its own).
    The version its endpoints serve is what this process's heartbeat of
    `topic` reports (version_cap.serve)."""
    version_cap.serve(topic, endpoints)
    target = messaging.Target(topic=topic, server=server)
    # Threading is the default executor without eventlet; not passing it keeps
    # oslo.messaging from warning about it.
    return messaging.get_rpc_server(
        transport.get_transport(),
        target,
        endpoints,
        serializer=serializer.Serializer(),
        access_policy=dispatcher.DefaultRPCAccessPolicy,
    )


def get_notification_listener(
    topics: list[str], endpoints: list, pool: str | None = None
):
    targets = [messaging.Target(topic=t) for t in topics]
    return messaging.get_notification_listener(
        transport.get_notification_transport(),
        targets,
        endpoints,
        serializer=serializer.Serializer(),
        pool=pool,
        allow_requeue=False,
    )
