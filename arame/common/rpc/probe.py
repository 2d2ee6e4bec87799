"""Is the bus reachable? For readiness checks.

oslo.messaging has no ping; for rabbit:// we open (and close) one AMQP
connection with kombu, which oslo.messaging's rabbit driver is built on.
"""

import functools
import urllib.parse

import oslo_messaging as messaging

from arame.common.conf import CONF


def check_bus(timeout: float = 2.0) -> str:
    url = messaging.TransportURL.parse(CONF, CONF.transport_url)
    if url.transport in (None, "fake"):
        return "ok"
    if url.transport != "rabbit":
        return "ok"  # no probe for this driver: do not claim it is down
    import kombu

    host = url.hosts[0] if url.hosts else None
    q = functools.partial(urllib.parse.quote, safe="")
    vhost = url.virtual_host or ""
    amqp = (
        "amqp://{}:{}@{}:{}/{}".format(
            q(host.username or "guest"),
            q(host.password or "guest"),
            host.hostname or "localhost",
            host.port or 5672,
            q(vhost),
        )
        if host
        else "amqp://"
    )
    try:
        with kombu.Connection(amqp, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return "ok"
    except Exception as e:
        return f"unreachable: {type(e).__name__}"
