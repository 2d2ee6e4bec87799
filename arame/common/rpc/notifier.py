import oslo_messaging as messaging

from arame.common.conf import CONF
from arame.common.rpc import serializer, transport

TOPIC = "notifications"

# oslo.messaging 18's rabbit driver takes [oslo_messaging_notifications]
# retry = -1 ("forever", the default) to publishing, but hands the -1 to
# kombu when it opens a new pooled connection, where it means "no retry":
# on a cluster, a notification whose new connection first tries the node
# that just died is dropped ("Could not send notification ... Connection
# refused") instead of going to the next node. A count too large to reach
# means forever on both paths (publishing backs off to
# rabbit_interval_max between tries).
FOREVER = 2**31 - 1


def notify_retry() -> int:
    """[oslo_messaging_notifications] retry, forever as a count."""
    retry = CONF.oslo_messaging_notifications.retry
    return FOREVER if retry is None or retry < 0 else retry


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
        retry=notify_retry(),
    )
