#!/usr/bin/env python3
"""Consume Arame's public notifications with kombu, as another service would.

Binds a queue of its own (``--queue``) on the control exchange to
``<topic>.info`` and ``<topic>.error``, and prints one JSON line per
notification: ``{"event_type", "priority", "publisher_id", "timestamp",
"message_id", "payload"}``. A message is acknowledged after it is printed,
so a consumer that dies before that gets it again (at least once: key your
work on ``message_id`` or ``payload.task_id``).

    consumer.py --url amqp://user:pw@broker:5672/vhost --queue billing

Prints ``{"ready": true}`` once its queue is bound; stops on SIGTERM/SIGINT.
"""

import argparse
import json
import signal
import sys

import kombu


def unwrap(body) -> dict:
    """oslo.messaging's envelope (messagingv2): {"oslo.version": "2.0",
    "oslo.message": "<the notification, as a JSON string>"}."""
    if isinstance(body, (bytes, str)):
        body = json.loads(body)
    if "oslo.message" in body:
        body = json.loads(body["oslo.message"])
    return {
        k: body.get(k)
        for k in (
            "event_type",
            "priority",
            "publisher_id",
            "timestamp",
            "message_id",
            "payload",
        )
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="amqp:// (or rabbit://) URL")
    p.add_argument("--exchange", default="arame", help="control exchange")
    p.add_argument("--topic", default="arame_notifications")
    p.add_argument("--queue", required=True, help="your service's queue")
    args = p.parse_args(argv)

    url = args.url.replace("rabbit://", "amqp://", 1)
    # Passive: the exchange is Arame's (a topic exchange its daemons
    # declare); declaring it here with other flags would be refused.
    exchange = kombu.Exchange(args.exchange, type="topic", passive=True)
    queue = kombu.Queue(
        args.queue,
        durable=True,
        bindings=[
            kombu.binding(exchange, routing_key=f"{args.topic}.{priority}")
            for priority in ("info", "error")
        ],
    )
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))

    def on_message(body, message):
        print(json.dumps(unwrap(body)), flush=True)
        message.ack()

    with kombu.Connection(url) as conn:
        with conn.Consumer(
            queue, callbacks=[on_message], accept=["json"], prefetch_count=10
        ):
            print(json.dumps({"ready": True}), flush=True)
            while not stopping:
                try:
                    conn.drain_events(timeout=1)
                except TimeoutError:  # nothing within the second
                    continue
    return 0


if __name__ == "__main__":
    sys.exit(main())
