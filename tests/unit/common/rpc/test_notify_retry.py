"""Notifiers retry forever as a count, never as the driver's -1 (which
kombu reads as no retry when a new connection opens: a notification
dropped on a cluster's failover)."""

import pytest

from arame.common.conf import CONF
from arame.common.conf import messaging as messaging_conf
from arame.common.rpc import notifier


@pytest.fixture(autouse=True)
def _options():
    # What a daemon has once its transport loads: the group registered.
    messaging_conf.set_defaults(CONF)


def test_forever_is_a_count():
    CONF.set_override("retry", -1, group="oslo_messaging_notifications")
    try:
        assert notifier.notify_retry() == notifier.FOREVER > 10**9
    finally:
        CONF.clear_override("retry", group="oslo_messaging_notifications")


def test_an_operators_count_is_kept():
    CONF.set_override("retry", 3, group="oslo_messaging_notifications")
    try:
        assert notifier.notify_retry() == 3
    finally:
        CONF.clear_override("retry", group="oslo_messaging_notifications")
