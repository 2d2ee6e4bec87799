"""Reference rates measured beside the load: what one HTTP request costs the
API, and what the bus alone does (oslo.messaging cast and call, raw pika)."""

import concurrent.futures
import os
import threading
import time

from arame.deploy import infra
from arame.sdk import Client

from .broker import amqp_params, write_bus_conf
from .resources import proc_cpu_seconds
from .run import Deadline
from .stats import summary


def measure_api_cost(
    dep, token: str, task_id: str | None, n: int, deadline: Deadline
) -> dict:
    """Sequential requests from one client on the idle deployment: rate,
    latency and the API process's CPU per request. /healthz is the
    framework alone (no auth, no database); GET /v1/tasks/{id} is the poll
    every cycle makes (token check, user row, policy, task + events)."""
    api_pid = dep.daemons["api"].pid
    out = {}
    paths = [("healthz", "/healthz")]
    if task_id:
        paths.append(("get_task", f"/v1/tasks/{task_id}"))
    with Client(dep.api_url, token=token) as c:
        for label, path in paths:
            for _ in range(20):  # warm
                c._session.get(path)
            lat = []
            cpu0 = proc_cpu_seconds(api_pid)
            t0 = time.perf_counter()
            for _ in range(n):
                t = time.perf_counter()
                c._session.get(path)
                lat.append((time.perf_counter() - t) * 1000)
                if deadline.passed():
                    break
            el = time.perf_counter() - t0
            cpu1 = proc_cpu_seconds(api_pid)
            out[label] = {
                "n": len(lat),
                "per_s": len(lat) / el,
                "latency_ms": summary(lat),
                "api_cpu_ms_per_request": (cpu1 - cpu0) * 1000 / len(lat)
                if cpu0 is not None and cpu1 is not None
                else None,
            }
    return out


def measure_references(
    rabbit: infra.RabbitMQ,
    vhost: str,
    state_dir: str,
    args,
    deadline: Deadline,
) -> dict:
    """oslo.messaging cast and call, raw pika publish and publish+consume, on
    the broker the deployment uses, in a vhost of their own."""
    out = {"vhost": vhost}
    try:
        rabbit.create_vhost(vhost)
        out["oslo"] = _oslo_refs(rabbit, vhost, state_dir, args, deadline)
        out["pika"] = _pika_refs(rabbit, vhost, args, deadline)
    finally:
        rabbit.delete_vhost(vhost)
    return out


def _oslo_refs(rabbit, vhost, state_dir, args, deadline) -> dict:
    import oslo_messaging as messaging

    import arame.cmd  # noqa: F401  (threading backend first)
    from arame.common import rpc
    from arame.common.conf import parse_args
    from arame.common.context import admin_context

    path = os.path.join(state_dir, "bench-ref.conf")
    os.makedirs(os.path.join(state_dir, "log"), exist_ok=True)
    write_bus_conf(
        path,
        rabbit.url(vhost),
        os.path.join(state_dir, "log", "bench-ref.log"),
    )
    parse_args(["--config-file", path])

    n_cast, n_call = args.ref_casts, args.ref_calls
    state = {"n": 0}
    got_all = threading.Event()
    lock = threading.Lock()

    class Endpoint:
        target = messaging.Target(version="1.0")

        def __init__(self):
            self.expect = n_cast

        def ping(self, ctxt, i):
            with lock:
                state["n"] += 1
                if state["n"] >= self.expect:
                    got_all.set()

        def echo(self, ctxt, i):
            return i

    ep = Endpoint()
    server = rpc.get_server("benchref", "benchref-server", [ep])
    server.start()
    res = {}
    try:
        ctxt = admin_context()
        client = rpc.get_client("benchref")
        direct = client.prepare(server="benchref-server", timeout=30)
        for i in range(50):  # warm: connections, reply queue, consumers
            direct.call(ctxt, "echo", i=i)

        # (a) casts, topic queue (the scheduler's path), end to end
        t0 = time.perf_counter()
        for i in range(n_cast):
            client.cast(ctxt, "ping", i=i)
        t_sent = time.perf_counter()
        got_all.wait(max(1.0, min(120.0, deadline.left())))
        t_recv = time.perf_counter()
        res["cast"] = {
            "n": n_cast,
            "received": state["n"],
            "send_per_s": n_cast / (t_sent - t0),
            "end_to_end_per_s": state["n"] / (t_recv - t0),
            "end_to_end_s": t_recv - t0,
        }

        # (a') the same from `concurrency` threads (as the API's workers cast)
        conc = args.concurrency
        per = max(1, n_cast // conc)
        with lock:
            state["n"] = 0
        got_all.clear()
        ep.expect = per * conc
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(conc) as ex:
            for f in [
                ex.submit(
                    lambda: [
                        client.cast(ctxt, "ping", i=i) for i in range(per)
                    ]
                )
                for _ in range(conc)
            ]:
                f.result()
        got_all.wait(max(1.0, min(120.0, deadline.left())))
        t_recv = time.perf_counter()
        res["cast_concurrent"] = {
            "n": per * conc,
            "threads": conc,
            "received": state["n"],
            "end_to_end_per_s": state["n"] / (t_recv - t0),
        }

        # (b) calls to one server (the flows' path to an agent)
        lat = []
        t0 = time.perf_counter()
        for i in range(n_call):
            t = time.perf_counter()
            direct.call(ctxt, "echo", i=i)
            lat.append((time.perf_counter() - t) * 1000)
            if deadline.passed():
                break
        el = time.perf_counter() - t0
        res["call_sequential"] = {
            "n": len(lat),
            "per_s": len(lat) / el,
            "latency_ms": summary(lat),
        }

        per = max(1, n_call // conc)
        lat_c = []
        lat_lock = threading.Lock()

        def caller():
            mine = []
            for i in range(per):
                t = time.perf_counter()
                direct.call(ctxt, "echo", i=i)
                mine.append((time.perf_counter() - t) * 1000)
                if deadline.passed():
                    break
            with lat_lock:
                lat_c.extend(mine)

        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(conc) as ex:
            for f in [ex.submit(caller) for _ in range(conc)]:
                f.result()
        el = time.perf_counter() - t0
        res["call_concurrent"] = {
            "n": len(lat_c),
            "threads": conc,
            "per_s": len(lat_c) / el,
            "latency_ms": summary(lat_c),
        }
    finally:
        server.stop()
        server.wait()
        rpc.cleanup()
    return res


def _pika_refs(rabbit, vhost, args, deadline) -> dict:
    import pika

    params = amqp_params(rabbit, vhost)
    n = args.ref_raw
    body = b"x" * 512
    props = pika.BasicProperties(delivery_mode=1)  # transient
    q = "bench-raw"
    res = {"n": n, "body_bytes": len(body)}

    conn = pika.BlockingConnection(params)
    try:
        ch = conn.channel()
        ch.queue_declare(q, durable=False)
        ch.queue_purge(q)

        # publish only: no confirms; the passive declare after the loop
        # tells when the broker holds every message.
        t0 = time.perf_counter()
        for _ in range(n):
            ch.basic_publish("", q, body, props)
        t_sent = time.perf_counter()
        while not deadline.passed():
            if ch.queue_declare(q, passive=True).method.message_count >= n:
                break
            time.sleep(0.005)
        t_in = time.perf_counter()
        res["publish"] = {
            "call_per_s": n / (t_sent - t0),
            "in_queue_per_s": n / (t_in - t0),
        }
        ch.queue_purge(q)

        # publish + consume (manual ack, like oslo.messaging's consumers)
        ready, done = threading.Event(), threading.Event()
        count = {"n": 0, "t_last": None}

        def consumer():
            c = pika.BlockingConnection(params)
            try:
                cc = c.channel()
                cc.basic_qos(prefetch_count=200)

                def on_msg(chan, method, _props, _body):
                    chan.basic_ack(method.delivery_tag)
                    count["n"] += 1
                    if count["n"] >= n:
                        count["t_last"] = time.perf_counter()
                        chan.stop_consuming()

                cc.basic_consume(q, on_msg)
                ready.set()
                stop_at = time.monotonic() + max(
                    1.0, min(120.0, deadline.left())
                )
                while count["n"] < n and time.monotonic() < stop_at:
                    c.process_data_events(time_limit=0.2)
            finally:
                done.set()
                c.close()

        th = threading.Thread(target=consumer, daemon=True)
        th.start()
        ready.wait(10)
        t0 = time.perf_counter()
        for _ in range(n):
            ch.basic_publish("", q, body, props)
        done.wait(max(1.0, min(130.0, deadline.left())))
        th.join(5)
        t_end = count["t_last"] or time.perf_counter()
        res["publish_consume"] = {
            "received": count["n"],
            "per_s": count["n"] / (t_end - t0),
        }
        ch.queue_delete(q)

        # publish with a confirm per message (what oslo.messaging's rabbit
        # driver does: kombu confirm_publish), to a classic and to a quorum
        # queue (Arame's topic queues are quorum queues)
        nc = max(1, min(n, args.ref_raw_confirm))
        for kind, qargs in (
            ("classic", None),
            ("quorum", {"x-queue-type": "quorum"}),
        ):
            cq = f"bench-confirm-{kind}"
            cch = conn.channel()
            cch.queue_declare(cq, durable=True, arguments=qargs)
            cch.confirm_delivery()
            t0 = time.perf_counter()
            for _ in range(nc):
                cch.basic_publish("", cq, body, props)
                if deadline.passed():
                    break
            el = time.perf_counter() - t0
            res[f"publish_confirm_{kind}"] = {"n": nc, "per_s": nc / el}
            cch.queue_delete(cq)
            cch.close()
    finally:
        conn.close()
    return res
