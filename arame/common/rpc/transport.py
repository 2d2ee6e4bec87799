"""Transports from [DEFAULT] transport_url: rabbit:// in deployments, fake://
only for the in-process all-in-one. Our defaults for oslo.messaging's options
are configuration (arame.common.conf.messaging), set as the options are
read."""

import threading

import oslo_messaging as messaging

from arame.common.conf import CONF

_lock = threading.Lock()
_transport = None
_notification_transport = None


def init() -> None:
    global _transport, _notification_transport
    with _lock:
        if _transport is None:
            _transport = messaging.get_rpc_transport(CONF)
            _notification_transport = messaging.get_notification_transport(
                CONF
            )


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
