"""Every notification on the deployment's `notifications` topic delivered
twice, as a broker redelivers a message whose ack was lost.

A queue of our own bound beside the collector's gets a copy of each
message; the first time a message is seen, it is published again with the
same routing key, the same notification (message_id, event type, payload,
timestamp) and a new oslo.messaging `_unique_id`: that transport id is
what oslo.messaging's consumer remembers (its last 16, in memory) to drop
a redelivery, and a collector restarted, or another in the pool, has no
such memory. The collector then records each notification twice. The
copy comes back to our queue too and is recognised by its message_id, so
nothing loops.

Why not a notifier driver: arame/common/rpc/notifier.py names its driver
(`messagingv2`) in the Notifier, so `[oslo_messaging_notifications]
driver` is never read, and oslo.messaging finds drivers only by entry
point name ('oslo.messaging.notify.drivers', stevedore), which a test
cannot add without a setup.cfg line. This needs neither.
"""

import json
import threading
import urllib.parse
import uuid
from collections import Counter

import kombu

from arame.common.conf.messaging import EXCHANGE
from arame.common.rpc.notifier import TOPIC


def _open(body: bytes | str) -> dict | None:
    """The notification inside oslo.messaging's 2.0 envelope."""
    try:
        return json.loads(json.loads(body)["oslo.message"])
    except (ValueError, TypeError, KeyError):
        return None


def _again(body: bytes | str, inner: dict) -> str:
    """The same notification under a new transport id."""
    envelope = json.loads(body)
    envelope["oslo.message"] = json.dumps(
        {**inner, "_unique_id": uuid.uuid4().hex}
    )
    return json.dumps(envelope)


class Duplicator:
    def __init__(self, rabbit, vhost: str):
        self.url = (
            f"amqp://{urllib.parse.quote(rabbit.user, safe='')}:"
            f"{urllib.parse.quote(rabbit.password, safe='')}@"
            f"{rabbit.host}:{rabbit.port}/{urllib.parse.quote(vhost, safe='')}"
        )
        self.duplicated: Counter = Counter()  # event type -> copies sent
        self.errors: list[str] = []
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="duplicator", daemon=True
        )

    def start(self, timeout: float = 30) -> "Duplicator":
        self._thread.start()
        if not self._ready.wait(timeout):
            raise AssertionError(
                f"the duplicator did not bind in {timeout} s: {self.errors}"
            )
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        try:
            with kombu.Connection(self.url, connect_timeout=10) as conn:
                self._consume(conn)
        except Exception as e:  # shown by the test: no copies were made
            self.errors.append(f"{type(e).__name__}: {e}")
            self._ready.set()

    def _consume(self, conn) -> None:
        # Declared as oslo.messaging declares it (durable topic exchange),
        # else the broker refuses the declaration as inequivalent.
        exchange = kombu.Exchange(EXCHANGE, type="topic", durable=True)
        queue = kombu.Queue(
            f"chaos-duplicator-{uuid.uuid4().hex[:8]}",
            exchange=exchange,
            routing_key=f"{TOPIC}.*",
            exclusive=True,
            auto_delete=True,
        )
        producer = kombu.Producer(conn.channel())

        def on_message(body, message):
            inner = _open(message.body)
            mid = inner and inner.get("message_id")
            if mid and mid not in self._seen:
                self._seen.add(mid)
                producer.publish(
                    _again(message.body, inner),
                    exchange=exchange,
                    routing_key=message.delivery_info["routing_key"],
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    headers=message.headers,
                    delivery_mode=2,
                )
                self.duplicated[inner.get("event_type")] += 1
            message.ack()

        with kombu.Consumer(
            conn, queues=[queue], callbacks=[on_message], accept=None
        ):
            self._ready.set()
            while not self._stop.is_set():
                try:
                    conn.drain_events(timeout=0.5)
                except TimeoutError:
                    continue
