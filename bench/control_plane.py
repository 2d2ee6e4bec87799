#!/usr/bin/env python3
"""Control-plane benchmark: boot+delete cycles over HTTP against a real
multi-process Arame deployment (RabbitMQ + MariaDB) with fake hypervisors,
and, on the same broker in the same run, the rates of the bus itself.

    python3 bench/control_plane.py                      # 100 hosts, 500 cycles, C=20
    python3 bench/control_plane.py --hosts 1000 --hva-procs 4 --private-rabbit
    python3 bench/control_plane.py --refs-only           # only the bus references
    python3 bench/control_plane.py --json > result.json

One cycle: POST /v1/instances, poll GET /v1/tasks/{id} until the task ends
(API->running is the time from the POST to the first poll that sees the task
done: the flow sets the instance `running` and the task `done` in one
transaction), check the instance is `running`, DELETE it and poll its task
until done (delete latency: DELETE to the first poll that sees it done).

The deployment is a LocalDeployment named bench_<random> with its own vhost,
database, API port (never 9001) and state directory under /tmp; it is torn
down (daemons stopped, vhost and database dropped) whatever happens. The
state directory (config, logs) is kept for inspection unless --rm-state.
Everything talks to 127.0.0.1 only, and the run stops by itself: each phase
is bounded and --max-seconds caps the whole run.
"""

import argparse
import collections
import concurrent.futures
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import arame  # noqa: F401  (threading backend before oslo.messaging loads)
from arame.deploy import infra, local
from arame.sdk import ArameError, Client

FLAVOR = "small"
IMAGE_NAME = "arame-test"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Deadline:
    """The one clock every loop of the run checks."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0

    def cancel(self) -> None:
        self.end = time.monotonic()


# -- statistics ----------------------------------------------------------------
def percentile(values, p: float):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summary(values) -> dict | None:
    if not values:
        return None
    return {"n": len(values), "p50": percentile(values, 50),
            "p95": percentile(values, 95), "p99": percentile(values, 99),
            "max": max(values), "mean": sum(values) / len(values)}


def fmt_ms(s: dict | None, keys=("p50", "p95", "p99", "max")) -> str:
    if not s:
        return "n/a"
    return "  ".join(f"{k} {s[k]:8.1f}" for k in keys)


# -- CPU accounting ------------------------------------------------------------
CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies summed over every CPU."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + vals[4]
    total = sum(vals[:8])
    return total - idle, total


def pids_by_comm(names: set[str]) -> dict[int, str]:
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in names:
            out[int(d)] = comm
    return out


class CPUMeter:
    """CPU seconds each process of interest used between start() and stop()."""

    def __init__(self, dep: local.LocalDeployment):
        self.procs: dict[int, str] = {d.pid: name for name, d in dep.daemons.items()}
        private = getattr(dep.rabbit, "beam_pid", lambda: None)()
        for pid, comm in pids_by_comm({"mariadbd", "mysqld", "beam.smp"}).items():
            if comm == "beam.smp":
                comm = ("beam.smp (bench's broker)" if pid == private else
                        "beam.smp (machine broker)" if private else comm)
            self.procs[pid] = comm
        self.procs[os.getpid()] = "bench (load generator)"

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.m0 = machine_cpu()
        self.c0 = {pid: proc_cpu_seconds(pid) for pid in self.procs}

    def stop(self) -> dict:
        wall = time.monotonic() - self.t0
        busy1, total1 = machine_cpu()
        busy = (busy1 - self.m0[0]) / max(1, total1 - self.m0[1])
        per = {}
        for pid, name in self.procs.items():
            c1 = proc_cpu_seconds(pid)
            if c1 is not None and self.c0.get(pid) is not None:
                per[name] = round((c1 - self.c0[pid]) / wall, 3)
        accounted = sum(per.values())
        ncpu = os.cpu_count() or 1
        return {"wall_s": round(wall, 2), "cores": ncpu,
                "machine_busy_fraction": round(busy, 3),
                "machine_busy_cores": round(busy * ncpu, 3),
                "per_process_cores": dict(sorted(per.items(),
                                                 key=lambda kv: -kv[1])),
                "other_cores": round(max(0.0, busy * ncpu - accounted), 3)}


def top_snapshot() -> list[str]:
    """The second frame of `top` (the first one averages since boot)."""
    try:
        out = subprocess.run(["top", "-b", "-c", "-n", "2", "-d", "1", "-w", "180"],
                             capture_output=True, text=True, timeout=15).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    frames = out.split("\ntop - ")
    lines = frames[-1].splitlines()
    # Summary lines, the header, and the busiest processes.
    return [line.rstrip() for line in lines[:20]]


# -- the cycle -----------------------------------------------------------------
class CycleError(Exception):
    pass


class CycleCut(Exception):
    """The run's deadline passed while this cycle was in flight."""


_ID_RE = re.compile(r"\b(i|task|t|host|img|image|req)-[0-9a-z]{6,}\b")
_HOST_RE = re.compile(r"\b[\w.]*-fake\d{4}\b|\bhva\d+\b")


def normalise(reason: str) -> str:
    """Error reasons without ids, so that equal causes group together."""
    reason = _ID_RE.sub(r"\1-…", reason)
    reason = _HOST_RE.sub("<host>", reason)
    return reason[:300]


def describe(e: Exception) -> str:
    if isinstance(e, ArameError):
        return f"HTTP {e.status_code} {e.code}: {e.message}"
    return f"{type(e).__name__}: {e}"


def wait_task(client: Client, task_id: str, poll: float, limit: float,
              deadline: Deadline) -> tuple[dict, float, int]:
    """Poll until the task is done or failed: (task, perf_counter when seen,
    polls made)."""
    polls = 0
    while True:
        time.sleep(poll)
        try:
            task = client.tasks.get(task_id)
        except ArameError as e:
            raise CycleError(f"GET /v1/tasks: {describe(e)}") from e
        polls += 1
        seen = time.perf_counter()
        if task["status"] in ("done", "failed"):
            return task, seen, polls
        if deadline.passed():
            raise CycleCut()
        if seen > limit:
            raise CycleError(f"task still {task['status']} (step "
                             f"{task.get('step')}) at the cycle timeout")


def server_breakdown(task: dict) -> dict:
    """Per-step durations from the task's own events (server clocks)."""
    out = {}
    try:
        created = dt.datetime.fromisoformat(str(task["created_at"]).rstrip("Z"))
        updated = dt.datetime.fromisoformat(str(task["updated_at"]).rstrip("Z"))
        out["server_total_ms"] = (updated - created).total_seconds() * 1000
        first = True
        for e in task.get("events") or []:
            if e.get("duration_ms") is not None:
                out[f"step_{e['step']}_ms"] = e["duration_ms"]
                if first:
                    at = dt.datetime.fromisoformat(str(e["at"]).rstrip("Z"))
                    start = at - dt.timedelta(milliseconds=e["duration_ms"])
                    out["dispatch_ms"] = (start - created).total_seconds() * 1000
                    first = False
    except (KeyError, TypeError, ValueError):
        pass
    return out


def run_cycle(client: Client, idx: int, image: str, args,
              deadline: Deadline, tag: str) -> dict:
    rec = {"i": idx, "ok": False, "requests": 0}
    limit = time.perf_counter() + min(args.cycle_timeout, max(1.0, deadline.left()))
    iid = None
    deleted = False
    try:
        t0 = time.perf_counter()
        try:
            inst = client.instances.create(f"{tag}-{idx}", flavor=FLAVOR,
                                           image=image)
        except ArameError as e:
            raise CycleError(f"POST /v1/instances: {describe(e)}") from e
        finally:
            rec["requests"] += 1
        rec["post_ms"] = (time.perf_counter() - t0) * 1000
        iid = inst["id"]
        rec["task_id"] = inst["task_id"]
        task, seen, polls = wait_task(client, inst["task_id"], args.poll,
                                      limit, deadline)
        rec["requests"] += polls
        if task["status"] != "done":
            err = task.get("error") or {}
            raise CycleError(f"create task failed at {err.get('step')}: "
                             f"{err.get('message')}")
        rec["running_ms"] = (seen - t0) * 1000
        rec["create"] = server_breakdown(task)
        if args.verify:
            try:
                status = client.instances.get(iid)["status"]
            except ArameError as e:
                raise CycleError(f"GET /v1/instances: {describe(e)}") from e
            finally:
                rec["requests"] += 1
            if status != "running":
                raise CycleError(f"create task done but instance is {status}")

        t1 = time.perf_counter()
        try:
            d = client.instances.delete(iid)
        except ArameError as e:
            raise CycleError(f"DELETE /v1/instances: {describe(e)}") from e
        finally:
            rec["requests"] += 1
        deleted = True
        rec["delete_call_ms"] = (time.perf_counter() - t1) * 1000
        task, seen, polls = wait_task(client, d["task_id"], args.poll, limit,
                                      deadline)
        rec["requests"] += polls
        if task["status"] != "done":
            err = task.get("error") or {}
            raise CycleError(f"delete task failed at {err.get('step')}: "
                             f"{err.get('message')}")
        rec["delete_ms"] = (seen - t1) * 1000
        rec["delete"] = server_breakdown(task)
        rec["ok"] = True
    except CycleCut:
        rec["cut"] = True
        rec["error"] = "cut by the run's deadline"
    except CycleError as e:
        rec["error"] = str(e)
    except Exception as e:  # a bug here or in the SDK: count it, keep going
        rec["error"] = f"bench: {type(e).__name__}: {e}"
    finally:
        rec["end"] = time.perf_counter()
        if iid is not None and not deleted and not deadline.passed():
            try:  # leave nothing behind; not timed
                client.instances.delete(iid)
            except Exception:
                pass
    return rec


def run_load(dep, token: str, image: str, count: int, args, deadline: Deadline,
             tag: str, progress: bool = True,
             on_half=None) -> tuple[list[dict], float]:
    """`count` cycles on `args.concurrency` workers; (records, wall seconds)."""
    lock = threading.Lock()
    nxt = iter(range(count))
    records: list[dict] = []

    def take():
        with lock:
            return next(nxt, None)

    def worker():
        out = []
        with Client(dep.api_url, token=token, timeout=args.http_timeout) as c:
            while not deadline.passed():
                idx = take()
                if idx is None:
                    break
                rec = run_cycle(c, idx, image, args, deadline, tag)
                out.append(rec)
                with lock:
                    records.append(rec)
        return out

    stop = threading.Event()
    t0 = time.perf_counter()

    def reporter():
        half_done = False
        last = time.monotonic()
        while not stop.wait(0.5):
            with lock:
                n = len(records)
                ok = sum(r["ok"] for r in records)
            el = time.perf_counter() - t0
            if progress and time.monotonic() - last >= 5:
                last = time.monotonic()
                log(f"  {tag}: {n}/{count} cycles, {ok} ok, "
                    f"{ok / el:.1f} cycles/s")
            if on_half and not half_done and n >= count // 2:
                half_done = True
                on_half()

    rep = threading.Thread(target=reporter, daemon=True)
    rep.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(args.concurrency,
                                                   thread_name_prefix="w") as ex:
            futs = [ex.submit(worker) for _ in range(args.concurrency)]
            for f in futs:
                f.result()
    finally:
        stop.set()
    wall = time.perf_counter() - t0
    return records, wall


def analyse(records: list[dict], wall: float, requested: int) -> dict:
    cut = sum(1 for r in records if r.get("cut"))
    records = [r for r in records if not r.get("cut")]
    ok = [r for r in records if r["ok"]]
    errors = collections.Counter(normalise(r["error"]) for r in records
                                 if not r["ok"])
    steps = collections.defaultdict(list)
    for r in ok:
        for phase in ("create", "delete"):
            for k, v in (r.get(phase) or {}).items():
                steps[f"{phase}.{k}"].append(v)
    requests = sum(r["requests"] for r in records)
    return {
        "cycles_requested": requested,
        "cycles_attempted": len(records),
        "cycles_cut_by_deadline": cut,
        "cycles_ok": len(ok),
        "success_rate": len(ok) / len(records) if records else 0.0,
        "wall_s": wall,
        "cycles_per_s": len(ok) / wall if wall > 0 else 0.0,
        "api_to_running_ms": summary([r["running_ms"] for r in ok]),
        "delete_ms": summary([r["delete_ms"] for r in ok]),
        "post_ms": summary([r["post_ms"] for r in ok]),
        "delete_call_ms": summary([r["delete_call_ms"] for r in ok]),
        "server_side_ms": {k: summary(v) for k, v in sorted(steps.items())},
        "http_requests": requests,
        "http_requests_per_cycle": requests / len(records) if records else 0,
        "http_requests_per_s": requests / wall if wall > 0 else 0,
        "errors": dict(errors.most_common()),
    }


# -- reference: what one HTTP request costs the API -------------------------------
def measure_api_cost(dep, token: str, task_id: str | None, n: int,
                     deadline: Deadline) -> dict:
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
            out[label] = {"n": len(lat), "per_s": len(lat) / el,
                          "latency_ms": summary(lat),
                          "api_cpu_ms_per_request":
                              (cpu1 - cpu0) * 1000 / len(lat)
                              if cpu0 is not None and cpu1 is not None else None}
    return out


# -- references: the bus alone -------------------------------------------------
def measure_references(rabbit: infra.RabbitMQ, vhost: str, state_dir: str,
                       args, deadline: Deadline) -> dict:
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
    from arame.common import rpc
    from arame.common.conf import parse_args
    from arame.common.context import admin_context
    import oslo_messaging as messaging

    path = os.path.join(state_dir, "bench-ref.conf")
    os.makedirs(os.path.join(state_dir, "log"), exist_ok=True)
    with open(path, "w") as f:
        f.write("[DEFAULT]\n"
                f"transport_url = {rabbit.url(vhost)}\n"
                f"log_file = {os.path.join(state_dir, 'log', 'bench-ref.log')}\n")
    os.chmod(path, 0o600)
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
        res["cast"] = {"n": n_cast, "received": state["n"],
                       "send_per_s": n_cast / (t_sent - t0),
                       "end_to_end_per_s": state["n"] / (t_recv - t0),
                       "end_to_end_s": t_recv - t0}

        # (a') the same from `concurrency` threads (as the API's workers cast)
        conc = args.concurrency
        per = max(1, n_cast // conc)
        with lock:
            state["n"] = 0
        got_all.clear()
        ep.expect = per * conc
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(conc) as ex:
            for f in [ex.submit(lambda: [client.cast(ctxt, "ping", i=i)
                                         for i in range(per)])
                      for _ in range(conc)]:
                f.result()
        got_all.wait(max(1.0, min(120.0, deadline.left())))
        t_recv = time.perf_counter()
        res["cast_concurrent"] = {"n": per * conc, "threads": conc,
                                  "received": state["n"],
                                  "end_to_end_per_s": state["n"] / (t_recv - t0)}

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
        res["call_sequential"] = {"n": len(lat), "per_s": len(lat) / el,
                                  "latency_ms": summary(lat)}

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
        res["call_concurrent"] = {"n": len(lat_c), "threads": conc,
                                  "per_s": len(lat_c) / el,
                                  "latency_ms": summary(lat_c)}
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
        res["publish"] = {"call_per_s": n / (t_sent - t0),
                          "in_queue_per_s": n / (t_in - t0)}
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
                stop_at = time.monotonic() + max(1.0, min(120.0, deadline.left()))
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
        res["publish_consume"] = {"received": count["n"],
                                  "per_s": count["n"] / (t_end - t0)}
        ch.queue_delete(q)

        # publish with a confirm per message (what oslo.messaging's rabbit
        # driver does: kombu confirm_publish), to a classic and to a quorum
        # queue (Arame's topic queues are quorum queues)
        nc = max(1, min(n, args.ref_raw_confirm))
        for kind, qargs in (("classic", None), ("quorum", {"x-queue-type": "quorum"})):
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


# -- a broker of the bench's own ------------------------------------------------
def rabbitmqctl() -> str:
    return shutil.which("rabbitmqctl") or "rabbitmqctl"


def broker_sockets(node: str | None = None) -> dict | None:
    """{'sockets_limit': .., 'sockets_used': ..} of a running node."""
    args = [rabbitmqctl()] + (["-n", node] if node else []) + [
        "-q", "status", "--formatter", "json"]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=60)
        return json.loads(out.stdout).get("file_descriptors")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None


class PrivateRabbitMQ(infra.RabbitMQ):
    """A RabbitMQ node started by the bench for itself: its own AMQP and
    distribution ports, mnesia and log directories under /tmp, and a file
    limit high enough for one AMQP connection per fake host (the machine's
    node inherits `ulimit -n` 1024, i.e. 832 sockets). Run as the rabbitmq
    user so that rabbitmqctl (which su's to it) shares its Erlang cookie."""

    def __init__(self, name: str, nofile: int = 20000):
        super().__init__(port=free_port())
        self.dist_port = free_port()
        self.node = f"{name}@{socket.gethostname().split('.')[0]}"
        self.nofile = nofile
        self.dir = tempfile.mkdtemp(prefix=f"arame-{name}-rabbit-", dir="/tmp")
        self.proc: subprocess.Popen | None = None

    def _ctl(self, *args, timeout: float = 60, check: bool = True):
        return infra._run([rabbitmqctl(), "-n", self.node, *args],
                          timeout=timeout, check=check)

    def ensure_running(self, log_path: str | None = None,
                       timeout: float = 120) -> bool:
        if self.proc is not None and self.proc.poll() is None:
            return False
        import pwd
        import resource
        pw = pwd.getpwnam("rabbitmq")
        for sub in ("mnesia", "log"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        for root, dirs, files in os.walk(self.dir):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.chown(n, pw.pw_uid, pw.pw_gid)
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "HOME": pw.pw_dir, "LANG": "C.UTF-8",
               "RABBITMQ_NODENAME": self.node,
               "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
               "RABBITMQ_NODE_PORT": str(self.port),
               "RABBITMQ_DIST_PORT": str(self.dist_port),
               "RABBITMQ_MNESIA_BASE": os.path.join(self.dir, "mnesia"),
               "RABBITMQ_LOG_BASE": os.path.join(self.dir, "log"),
               "RABBITMQ_PID_FILE": os.path.join(self.dir, "rabbit.pid"),
               "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.dir, "enabled_plugins"),
               "RABBITMQ_CONFIG_FILE": os.path.join(self.dir, "rabbitmq")}
        nofile = self.nofile

        def demote():
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            lim = nofile if hard == resource.RLIM_INFINITY else min(nofile, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)

        server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
        if not os.path.exists(server):
            server = shutil.which("rabbitmq-server") or server
        with open(os.path.join(self.dir, "startup.log"), "ab") as out:
            self.proc = subprocess.Popen([server], stdout=out,
                                         stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env,
                                         cwd=self.dir, preexec_fn=demote,
                                         start_new_session=True)
        infra.wait_for(lambda: self.proc.poll() is not None or self.running(),
                       timeout, f"RabbitMQ node {self.node}")
        if self.proc.poll() is not None:
            raise infra.InfraError(f"RabbitMQ node {self.node} exited; see "
                                   f"{self.dir}/startup.log")
        self._ctl("await_startup", "--timeout", str(int(timeout)),
                  timeout=timeout + 10)
        return True

    def create_vhost(self, vhost: str) -> None:
        self._ctl("add_vhost", vhost, check=False)
        self._ctl("set_permissions", "-p", vhost, self.user, ".*", ".*", ".*")

    def delete_vhost(self, vhost: str) -> None:
        self._ctl("delete_vhost", vhost, check=False)

    def beam_pid(self) -> int | None:
        try:
            with open(os.path.join(self.dir, "rabbit.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._ctl("stop", timeout=90, check=False)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            try:  # our own session only
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


# -- deployment ------------------------------------------------------------------
def free_port() -> int:
    for _ in range(20):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != 9001:
            return port
    raise RuntimeError("no free port")


def split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def parse_overrides(items: list[str]) -> dict:
    conf: dict[str, dict] = {}
    for item in items:
        key, _, value = item.partition("=")
        section, _, opt = key.rpartition(".")
        if not opt or not _:
            raise SystemExit(f"--set {item!r}: expected SECTION.KEY=VALUE")
        conf.setdefault(section, {})[opt] = value
    return conf


def start_deployment(dep: local.LocalDeployment, args, deadline: Deadline) -> dict:
    t0 = time.perf_counter()
    dep.prepare()
    t_prep = time.perf_counter()
    for i in range(1, args.collectors + 1):
        dep.start("collector", f"collector-{i}",
                  overlay={"DEFAULT": {"host": f"coll{i}"}})
    for i in range(1, args.schedulers + 1):
        dep.start("scheduler", f"scheduler-{i}",
                  overlay={"DEFAULT": {"host": f"sched{i}"}})
    for i, n in enumerate(split(args.hosts, args.hva_procs), 1):
        if n:
            dep.start("hva", f"hva-{i}",
                      overlay={"DEFAULT": {"host": f"hva{i}"},
                               "fake_hva": {"host_count": n}})
    dep.start("api")
    t_started = time.perf_counter()
    timeout = max(1.0, min(args.startup_timeout, deadline.left()))
    dep.wait_ready(timeout, hypervisors=0)
    t_api = time.perf_counter()
    token = dep.token()
    last_log = [0.0]

    def hosts_up():
        for name, d in dep.daemons.items():
            if not d.alive():
                raise infra.InfraError(f"{name} exited; see {d.log_path}")
        r = Client(dep.api_url, token=token, timeout=30)
        try:
            items = r.hosts._session.get("/v1/hosts")["items"]
        finally:
            r.close()
        up = sum(1 for h in items if h.get("hypervisor_type") and h["state"] == "up")
        if time.monotonic() - last_log[0] > 10:
            last_log[0] = time.monotonic()
            log(f"  {up}/{args.hosts} hosts up")
        return up >= args.hosts

    infra.wait_for(hosts_up, max(1.0, min(args.startup_timeout - (t_api - t0),
                                          deadline.left())),
                   f"{args.hosts} fake hosts to report", interval=1.0)
    t_hosts = time.perf_counter()

    # A host is "up" as soon as its process's first heartbeat lands, which
    # goes before the RPC servers start (arame/agents/hva/service.py); a
    # call to a host whose queue has no consumer yet would wait for its
    # deadline. So also wait until every hva.<host> queue has a consumer.
    with Client(dep.api_url, token=token, timeout=60) as c:
        names = [h["name"] for h in c.hosts._session.get("/v1/hosts")["items"]
                 if h.get("hypervisor_type")]
    last_log[0] = 0.0

    def consumers_ready():
        n = rpc_queues_with_consumers(dep.rabbit, dep.vhost,
                                      [f"hva.{h}" for h in names])
        if time.monotonic() - last_log[0] > 10:
            last_log[0] = time.monotonic()
            log(f"  {n}/{len(names)} hva.<host> queues have a consumer")
        return n >= len(names)

    infra.wait_for(consumers_ready,
                   max(1.0, min(args.startup_timeout - (time.perf_counter() - t0),
                                deadline.left())),
                   "every fake host's RPC queue to have a consumer", interval=2.0)
    t_queues = time.perf_counter()
    return {"prepare_s": t_prep - t0, "spawn_s": t_started - t_prep,
            "api_ready_s": t_api - t0, "hosts_up_s": t_hosts - t0,
            "rpc_ready_s": t_queues - t0, "token": token}


def amqp_params(rabbit: infra.RabbitMQ, vhost: str):
    import pika
    url = (f"amqp://{rabbit.user}:{rabbit.password}@{rabbit.host}:{rabbit.port}/"
           f"{urllib.parse.quote(vhost, safe='')}")
    params = pika.URLParameters(url)
    params.socket_timeout = 30
    params.blocked_connection_timeout = 60
    return params


def rpc_queues_with_consumers(rabbit: infra.RabbitMQ, vhost: str,
                              queues: list[str]) -> int:
    """How many of `queues` exist and have a consumer (passive declares)."""
    import pika
    try:
        conn = pika.BlockingConnection(amqp_params(rabbit, vhost))
    except pika.exceptions.AMQPError:
        return 0
    ready = 0
    try:
        ch = conn.channel()
        for q in queues:
            try:
                if ch.queue_declare(q, passive=True).method.consumer_count > 0:
                    ready += 1
            except pika.exceptions.ChannelClosedByBroker:  # 404: not yet
                ch = conn.channel()
    except pika.exceptions.AMQPError:
        pass
    finally:
        try:
            conn.close()
        except Exception:
            pass
    return ready


def teardown(dep: local.LocalDeployment) -> dict:
    """Stop the daemons in LocalDeployment.down's order (API, then
    schedulers and collectors, then agents), each group in parallel, timing
    each stop; then down(drop=True) drops the vhost and the database.
    Returns {daemon: {"stop_s", "exit"}} (exit -9: it was SIGKILLed after
    the 30 s grace)."""
    out = {}
    groups = [["api"], ["scheduler", "collector"], None]
    names = list(dep.daemons)

    def stop(n):
        t = time.perf_counter()
        code = dep.stop(n)
        out[n] = {"stop_s": round(time.perf_counter() - t, 1), "exit": code}

    for roles in groups:
        batch = [n for n in names if roles is None or n.split("-")[0] in roles]
        names = [n for n in names if n not in batch]
        with concurrent.futures.ThreadPoolExecutor(max(1, len(batch))) as ex:
            list(ex.map(stop, batch))
    dep.down(drop=True)
    return out


def find_image(dep, token: str) -> str:
    with Client(dep.api_url, token=token) as c:
        for img in c.images.list(all=True):
            if img["name"] == IMAGE_NAME and img["status"] == "available":
                return img["id"]
    raise RuntimeError(f"no available image named {IMAGE_NAME}")


def log_errors(log_dir: str, limit: int = 20) -> dict:
    out = {}
    if not os.path.isdir(log_dir):
        return out
    for name in sorted(os.listdir(log_dir)):
        try:
            with open(os.path.join(log_dir, name), errors="replace") as f:
                bad = [line.rstrip() for line in f
                       if " ERROR " in line or " CRITICAL " in line
                       or line.startswith("Traceback")]
        except OSError:
            continue
        if bad:
            out[name] = {"count": len(bad), "first": bad[:limit]}
    return out


def versions() -> dict:
    v = {"python": platform.python_version()}
    try:
        v["rabbitmq"] = subprocess.run(
            ["rabbitmqctl", "version"], capture_output=True, text=True,
            timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        v["mariadb"] = subprocess.run(
            ["mariadb", "--version"], capture_output=True, text=True,
            timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return v


def code_version() -> dict:
    """The commit the daemons run (they start from the installed, editable
    package), and whether arame/ has uncommitted changes."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(arame.__file__)))
    out = {"repo": repo}
    try:
        out["commit"] = subprocess.run(
            ["git", "-C", repo, "log", "-1", "--format=%h %cI %s"],
            capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", repo, "status", "--porcelain", "--", "arame"],
            capture_output=True, text=True, timeout=10).stdout.strip()
        out["arame_uncommitted"] = len(dirty.splitlines())
    except (OSError, subprocess.TimeoutExpired):
        pass
    return out


def machine() -> dict:
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"cores": os.cpu_count(), "memory_gib": round(mem / 2**30, 1),
            "kernel": platform.release(), "loadavg_at_start": load}


# -- report ----------------------------------------------------------------------
def ratios(load: dict | None, refs: dict | None) -> dict:
    if not load or not refs or not load.get("cycles_per_s"):
        return {}
    r = load["cycles_per_s"]
    out = {}
    o = refs.get("oslo") or {}
    p = refs.get("pika") or {}
    if o.get("cast"):
        out["cycles_per_oslo_cast"] = r / o["cast"]["end_to_end_per_s"]
    if o.get("cast_concurrent"):
        out["cycles_per_oslo_cast_concurrent"] = r / o["cast_concurrent"]["end_to_end_per_s"]
    if o.get("call_sequential"):
        out["cycles_per_oslo_call_sequential"] = r / o["call_sequential"]["per_s"]
    if o.get("call_concurrent"):
        out["cycles_per_oslo_call_concurrent"] = r / o["call_concurrent"]["per_s"]
    if p.get("publish"):
        out["cycles_per_pika_publish"] = r / p["publish"]["in_queue_per_s"]
    if p.get("publish_consume"):
        out["cycles_per_pika_publish_consume"] = r / p["publish_consume"]["per_s"]
    return out


def print_report(res: dict) -> None:
    p = print
    a = res["args"]
    p(f"Arame control-plane benchmark, {res['date']}")
    m = res["machine"]
    p(f"machine: {m['cores']} cores, {m['memory_gib']} GiB; MariaDB, RabbitMQ, "
      "every daemon and this load generator share them; load average at start "
      f"{m.get('loadavg_at_start')}")
    p(f"versions: {res.get('versions')}")
    code = res.get("code") or {}
    if code.get("commit"):
        p(f"code: {code['commit']}"
          + (f" (+{code['arame_uncommitted']} uncommitted file(s) in arame/)"
             if code.get("arame_uncommitted") else ""))
    b = res.get("broker")
    if b:
        fds = b.get("file_descriptors") or {}
        p(f"broker: {'a private node of this bench' if b['private'] else 'the machine broker'}"
          f" on 127.0.0.1:{b['port']} (sockets used/limit at start: "
          f"{fds.get('sockets_used')}/{fds.get('sockets_limit')})")
    if res.get("deployment"):
        d = res["deployment"]
        p(f"deployment {d['name']}: API {d['api_url']}, {a['schedulers']} "
          f"scheduler(s), {a['collectors']} collector(s), {a['hva_procs']} hva "
          f"process(es) serving {a['hosts']} fake hosts; state {d['state_dir']}")
        st = d.get("startup") or {}
        if st:
            p(f"start-up: prepare {st['prepare_s']:.1f} s, API up "
              f"{st['api_ready_s']:.1f} s, all hosts reported {st['hosts_up_s']:.1f} s, "
              f"every host's RPC queue consumed {st.get('rpc_ready_s', 0):.1f} s")
    load = res.get("load")
    if load:
        p("")
        p(f"load: {load['cycles_attempted']} of {load['cycles_requested']} "
          f"boot+delete cycles at concurrency {a['concurrency']} (poll every "
          f"{a['poll'] * 1000:.0f} ms, {load['wall_s']:.1f} s)")
        if load.get("cycles_cut_by_deadline"):
            p(f"  STOPPED BY --max-seconds: {load['cycles_cut_by_deadline']} "
              "cycles in flight were cut and are not counted")
        p(f"  boot+delete cycles/s   {load['cycles_per_s']:8.2f}")
        p(f"  success                {load['cycles_ok']}/{load['cycles_attempted']}"
          f" ({100 * load['success_rate']:.1f} %)")
        for reason, n in load["errors"].items():
            p(f"    {n:5d} x {reason}")
        p(f"  API->running ms        {fmt_ms(load['api_to_running_ms'])}")
        p(f"  delete ms              {fmt_ms(load['delete_ms'])}")
        p(f"  POST answer ms         {fmt_ms(load['post_ms'], ('p50', 'p95'))}")
        p(f"  DELETE answer ms       {fmt_ms(load['delete_call_ms'], ('p50', 'p95'))}")
        ss = load["server_side_ms"]
        for k in ("create.dispatch_ms", "create.step_schedule_ms",
                  "create.step_spawn_ms", "create.server_total_ms",
                  "delete.dispatch_ms", "delete.step_destroy_ms",
                  "delete.step_release_ms", "delete.server_total_ms"):
            if ss.get(k):
                p(f"  server {k:<24s}{fmt_ms(ss[k], ('p50', 'p95'))}")
        p(f"  HTTP requests          {load['http_requests_per_cycle']:.1f} per "
          f"cycle, {load['http_requests_per_s']:.0f}/s")
    cpu = res.get("cpu")
    if cpu:
        p(f"  CPU during the load ({cpu['cores']} cores): machine busy "
          f"{100 * cpu['machine_busy_fraction']:.0f} % "
          f"({cpu['machine_busy_cores']:.2f} cores)")
        per_cycle = cpu.get("cpu_ms_per_cycle") or {}
        for name, c in cpu["per_process_cores"].items():
            if c >= 0.01:
                extra = (f"  {per_cycle[name]:6.1f} ms CPU per cycle"
                         if name in per_cycle else "")
                p(f"    {name:<24s}{c:5.2f} cores{extra}")
        p(f"    {'(other processes)':<24s}{cpu['other_cores']:5.2f} cores")
    if res.get("top"):
        p("  top, mid-run:")
        for line in res["top"]:
            p("    " + line)
    refs = res.get("references")
    if refs:
        p("")
        p(f"references on the same broker (vhost {refs['vhost']}):")
        o = refs.get("oslo") or {}
        if o.get("cast"):
            c = o["cast"]
            p(f"  oslo.messaging cast     {c['end_to_end_per_s']:9.0f}/s end to end "
              f"({c['received']}/{c['n']} received; send alone "
              f"{c['send_per_s']:.0f}/s)")
        if o.get("cast_concurrent"):
            c = o["cast_concurrent"]
            p(f"  oslo.messaging cast     {c['end_to_end_per_s']:9.0f}/s end to end "
              f"from {c['threads']} threads ({c['received']}/{c['n']} received)")
        if o.get("call_sequential"):
            c = o["call_sequential"]
            p(f"  oslo.messaging call     {c['per_s']:9.0f}/s sequential "
              f"(p50 {c['latency_ms']['p50']:.2f} ms)")
        if o.get("call_concurrent"):
            c = o["call_concurrent"]
            p(f"  oslo.messaging call     {c['per_s']:9.0f}/s from {c['threads']} "
              f"threads (p50 {c['latency_ms']['p50']:.2f} ms)")
        pk = refs.get("pika") or {}
        if pk.get("publish"):
            p(f"  pika publish            {pk['publish']['in_queue_per_s']:9.0f}/s "
              f"({pk['n']} x {pk['body_bytes']} B, transient, no confirms; "
              f"publish calls {pk['publish']['call_per_s']:.0f}/s)")
        if pk.get("publish_consume"):
            p(f"  pika publish+consume    {pk['publish_consume']['per_s']:9.0f}/s "
              f"(manual ack)")
        for kind in ("classic", "quorum"):
            c = pk.get(f"publish_confirm_{kind}")
            if c:
                p(f"  pika publish+confirm    {c['per_s']:9.0f}/s (one confirm per "
                  f"message, durable {kind} queue)")
    api = res.get("api_cost")
    if api:
        p("")
        p("API request cost (idle deployment, one client, sequential):")
        for label, c in api.items():
            cpu = c.get("api_cpu_ms_per_request")
            p(f"  GET {'/healthz' if label == 'healthz' else '/v1/tasks/{id}':<16s}"
              f"{c['per_s']:7.0f}/s  p50 {c['latency_ms']['p50']:.2f} ms  "
              f"API CPU {cpu:.2f} ms per request" if cpu is not None else "")
    if res.get("ratios"):
        p("")
        p("ratios (boot+delete cycles/s over):")
        for k, v in res["ratios"].items():
            p(f"  {k:<36s}{v:.4f}  (1 : {1 / v:,.0f})")
    if res.get("teardown"):
        p("")
        p("teardown (SIGTERM, SIGKILL after 30 s): " + ", ".join(
            f"{n} {t['stop_s']:.1f} s" + (" KILLED" if t["exit"] == -9 else "")
            for n, t in res["teardown"].items()))
    if "log_errors" in res:
        p("")
        if not res["log_errors"]:
            p("deployment logs: no ERROR lines")
        for name, info in res["log_errors"].items():
            p(f"deployment log {name}: {info['count']} ERROR/Traceback lines, first:")
            for line in info["first"][:5]:
                p("    " + line[:300])
    if res.get("failure"):
        p("")
        p(f"RUN FAILED: {res['failure']}")


# -- main --------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hosts", type=int, default=100, help="fake hypervisor hosts")
    p.add_argument("--hva-procs", type=int, default=1,
                   help="arame-hva processes sharing the fake hosts")
    p.add_argument("--cycles", type=int, default=500, help="boot+delete cycles")
    p.add_argument("--concurrency", type=int, default=20,
                   help="cycles in flight (one thread and HTTP client each)")
    p.add_argument("--schedulers", type=int, default=2)
    p.add_argument("--collectors", type=int, default=1)
    p.add_argument("--warmup", type=int, default=None,
                   help="untimed cycles first (default: the concurrency)")
    p.add_argument("--poll", type=float, default=0.02,
                   help="seconds between task polls (default 0.02)")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="do not GET the instance to check it is running")
    p.add_argument("--cycle-timeout", type=float, default=120.0)
    p.add_argument("--http-timeout", type=float, default=30.0)
    p.add_argument("--startup-timeout", type=float, default=600.0)
    p.add_argument("--max-seconds", type=float, default=1800.0,
                   help="the whole run stops by this (default 1800)")
    p.add_argument("--ref-casts", type=int, default=5000)
    p.add_argument("--ref-calls", type=int, default=2000)
    p.add_argument("--ref-raw", type=int, default=20000)
    p.add_argument("--ref-raw-confirm", type=int, default=2000)
    p.add_argument("--ref-http", type=int, default=500,
                   help="sequential requests per path for the API cost "
                        "reference (0: skip)")
    p.add_argument("--no-refs", dest="refs", action="store_false",
                   help="skip the bus reference rates")
    p.add_argument("--refs-only", action="store_true",
                   help="only the bus reference rates (no deployment)")
    p.add_argument("--private-rabbit", action="store_true",
                   help="run the deployment and the references on a RabbitMQ "
                        "node of the bench's own (own port and data, file "
                        "limit 20000) instead of the machine's broker; needed "
                        "past ~800 fake hosts")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="extra option in the deployment's config (repeatable)")
    p.add_argument("--rm-state", action="store_true",
                   help="remove the state directory (config, logs) at the end")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("--save", metavar="PATH",
                   help="also write the JSON result to PATH")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.warmup is None:
        args.warmup = args.concurrency
    for k in ("hosts", "hva_procs", "concurrency", "schedulers", "collectors"):
        if getattr(args, k) < 1:
            raise SystemExit(f"--{k.replace('_', '-')} must be at least 1")
    if args.hva_procs > args.hosts:
        raise SystemExit("--hva-procs must not exceed --hosts")
    deadline = Deadline(args.max_seconds)

    def on_term(signum, _frame):
        deadline.cancel()  # the workers stop after their current request
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    name = f"bench_{secrets.token_hex(4)}"
    state_dir = tempfile.mkdtemp(prefix=f"arame-{name}-", dir="/tmp")
    res = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
           "machine": machine(), "versions": versions(),
           "code": code_version(),
           "args": {k: v for k, v in vars(args).items()},
           "command": " ".join([os.path.basename(sys.executable)] + sys.argv)}
    rabbit = PrivateRabbitMQ(name) if args.private_rabbit else infra.RabbitMQ()
    mariadb = infra.MariaDB()
    dep = None
    rc = 0
    try:
        if args.private_rabbit:
            log(f"starting a private RabbitMQ node {rabbit.node} on port "
                f"{rabbit.port} (nofile {rabbit.nofile}) ...")
        rabbit.ensure_running()
        mariadb.ensure_running()
        fds = broker_sockets(getattr(rabbit, "node", None))
        res["broker"] = {"private": args.private_rabbit, "port": rabbit.port,
                         "file_descriptors": fds}
        # Each fake host holds one AMQP connection (one oslo.messaging RPC
        # server each); past the broker's socket limit it stops accepting
        # connections for everyone on it. Refuse rather than jam it.
        if fds and not args.refs_only:
            need = args.hosts + 4 * (args.schedulers + args.collectors
                                     + args.hva_procs) + 40
            free = fds["sockets_limit"] - fds["sockets_used"]
            if need > free:
                raise SystemExit(
                    f"{args.hosts} fake hosts need about {need} AMQP "
                    f"connections; the broker has {free} sockets free of "
                    f"{fds['sockets_limit']} (its `ulimit -n`). Use "
                    "--private-rabbit (a node of the bench's own with a "
                    "higher file limit) or fewer hosts.")
        if not args.refs_only:
            conf = parse_overrides(args.set)
            dep = local.LocalDeployment(name, state_dir, api_port=free_port(),
                                        conf=conf, rabbit=rabbit, mariadb=mariadb)
            res["deployment"] = {"name": name, "api_url": dep.api_url,
                                 "state_dir": state_dir, "vhost": dep.vhost,
                                 "database": dep.database, "conf": conf}
            log(f"deployment {name} on {dep.api_url}, state {state_dir}")
            st = start_deployment(dep, args, deadline)
            token = st.pop("token")
            res["deployment"]["startup"] = st
            res["deployment"]["daemons"] = {n: d.pid for n, d in dep.daemons.items()}
            log(f"up: API {st['api_ready_s']:.1f} s, {args.hosts} hosts "
                f"{st['hosts_up_s']:.1f} s, RPC queues {st['rpc_ready_s']:.1f} s")
        if args.refs or args.refs_only:
            log("bus references ...")
            res["references"] = measure_references(
                rabbit, f"arame-{name}-ref", state_dir, args, deadline)
        if dep is not None:
            image = find_image(dep, token)
            if args.warmup:
                log(f"warm-up: {args.warmup} cycles")
                wrec, wwall = run_load(dep, token, image, args.warmup, args,
                                       deadline, "warm", progress=False)
                res["warmup"] = {k: v for k, v in analyse(wrec, wwall, args.warmup)
                                 .items() if k in ("cycles_ok", "cycles_attempted",
                                                   "cycles_per_s", "errors")}
            if args.refs and args.ref_http:
                tid = next((r.get("task_id") for r in (wrec if args.warmup else [])
                            if r.get("task_id")), None)
                log("API request cost ...")
                res["api_cost"] = measure_api_cost(dep, token, tid,
                                                   args.ref_http, deadline)
            log(f"load: {args.cycles} cycles at concurrency {args.concurrency}")
            meter = CPUMeter(dep)
            tops: list = []
            th_top = []

            def on_half():
                t = threading.Thread(target=lambda: tops.append(top_snapshot()),
                                     daemon=True)
                t.start()
                th_top.append(t)

            meter.start()
            rec, wall = run_load(dep, token, image, args.cycles, args, deadline,
                                 "bench", on_half=on_half)
            res["cpu"] = meter.stop()
            for t in th_top:
                t.join(20)
            res["top"] = tops[0] if tops else []
            res["load"] = analyse(rec, wall, args.cycles)
            ok = res["load"]["cycles_ok"]
            if ok:
                # CPU time each process spent per completed cycle
                res["cpu"]["cpu_ms_per_cycle"] = {
                    k: round(v * res["cpu"]["wall_s"] * 1000 / ok, 1)
                    for k, v in res["cpu"]["per_process_cores"].items()}
            if deadline.passed():
                res["load"]["stopped_by_deadline"] = True
        res["ratios"] = ratios(res.get("load"), res.get("references"))
    except BaseException as e:  # noqa: B902 - report, then tear down
        deadline.cancel()
        res["failure"] = f"{type(e).__name__}: {e}"
        rc = 1
    finally:
        if dep is not None:
            log("tearing down (daemons, vhost, database) ...")
            try:
                res["teardown"] = teardown(dep)
            except BaseException as e:  # noqa: B902 - still drop everything
                res["teardown_error"] = f"{type(e).__name__}: {e}"
                rc = 1
                try:
                    dep.down(drop=True)
                except Exception:
                    pass
            res["log_errors"] = log_errors(dep.log_dir)
        if isinstance(rabbit, PrivateRabbitMQ):
            log(f"stopping the private RabbitMQ node {rabbit.node} ...")
            try:
                rabbit.stop()
            except Exception as e:
                res["teardown_error"] = f"{type(e).__name__}: {e}"
                rc = 1
        if args.rm_state:
            shutil.rmtree(state_dir, ignore_errors=True)
    if args.save:
        with open(args.save, "w") as f:
            json.dump(res, f, indent=2, default=str)
    if args.json:
        json.dump(res, sys.stdout, indent=2, default=str)
        print()
    else:
        print_report(res)
    load = res.get("load")
    if load and load["success_rate"] < 1.0:
        rc = rc or 2
    return rc


if __name__ == "__main__":
    sys.exit(main())
