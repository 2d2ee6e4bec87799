import oslo_messaging as messaging

from arame.common.rpc import serializer, transport

TOPIC = "notifications"


def get_notifier(publisher_id: str):
    """A notifier that publishes on the `notifications` topic, which the
    collector consumes (event types: service.heartbeat, host.inventory,
    instance.state, ...)."""
    return messaging.Notifier(
        transport.get_notification_transport(),
        publisher_id=publisher_id,
        driver="messagingv2",
        topics=[TOPIC],
        serializer=serializer.Serializer(),
    )
