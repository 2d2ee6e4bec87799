"""Transports from [DEFAULT] transport_url: rabbit:// in deployments, fake://
only for the in-process all-in-one."""

import threading

import oslo_messaging as messaging
from oslo_messaging import opts as messaging_opts

from arame.common.conf import CONF

EXCHANGE = "arame"
_lock = threading.Lock()
_transport = None
_notification_transport = None


def set_defaults() -> None:
    """Our defaults for oslo.messaging's options, before the config is read.

    Durable queues survive a broker restart; quorum queues (RabbitMQ >= 3.8)
    also survive the loss of a node. oslo.messaging keeps fanout and reply
    queues transient whatever these say.
    """
    messaging.set_transport_defaults(EXCHANGE)
    # The rabbit driver registers its options only when it loads; register
    # them now (through the public list the sample generator uses) so our
    # defaults apply and the options show in the sample config.
    for group, opts in messaging_opts.list_opts():
        CONF.register_opts(opts, group=group)
    CONF.set_default("amqp_durable_queues", True, group="oslo_messaging_rabbit")
    CONF.set_default("rabbit_quorum_queue", True, group="oslo_messaging_rabbit")


def init() -> None:
    global _transport, _notification_transport
    with _lock:
        if _transport is None:
            _transport = messaging.get_rpc_transport(CONF)
            _notification_transport = messaging.get_notification_transport(CONF)


def get_transport():
    init()
    return _transport


def get_notification_transport():
    init()
    return _notification_transport


def cleanup() -> None:
    global _transport, _notification_transport
    with _lock:
        for t in (_transport, _notification_transport):
            if t is not None:
                t.cleanup()
        _transport = _notification_transport = None
