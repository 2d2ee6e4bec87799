"""The load generator: boot+delete cycles over HTTP on worker threads, timed
from the client's side and, from the tasks' events, from the server's."""

import collections
import concurrent.futures
import datetime as dt
import re
import threading
import time

from arame.sdk import ArameError, Client

from .resources import CPUMeter, top_snapshot
from .run import Deadline, log
from .stats import summary

FLAVOR = "small"
IMAGE_NAME = "arame-test"


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


def wait_task(
    client: Client, task_id: str, poll: float, limit: float, deadline: Deadline
) -> tuple[dict, float, int]:
    """Wait until the task is done or failed: (task, perf_counter when seen,
    requests made). poll > 0: GET every `poll` seconds; poll == 0: long
    polls (GET ?wait=, answered when the task changes)."""
    polls = 0
    while True:
        if poll > 0:
            time.sleep(poll)
        hold = (
            0.0
            if poll > 0
            else max(0.05, min(20.0, limit - time.perf_counter()))
        )
        try:
            task = client.tasks.get(task_id, wait=hold)
        except ArameError as e:
            raise CycleError(f"GET /v1/tasks: {describe(e)}") from e
        polls += 1
        seen = time.perf_counter()
        if task["status"] in ("done", "failed"):
            return task, seen, polls
        if deadline.passed():
            raise CycleCut()
        if seen > limit:
            raise CycleError(
                f"task still {task['status']} (step "
                f"{task.get('step')}) at the cycle timeout"
            )


def server_breakdown(task: dict) -> dict:
    """Per-step durations from the task's own events (server clocks)."""
    out = {}
    try:
        created = dt.datetime.fromisoformat(
            str(task["created_at"]).rstrip("Z")
        )
        updated = dt.datetime.fromisoformat(
            str(task["updated_at"]).rstrip("Z")
        )
        out["server_total_ms"] = (updated - created).total_seconds() * 1000
        first = True
        for e in task.get("events") or []:
            if e.get("duration_ms") is not None:
                out[f"step_{e['step']}_ms"] = e["duration_ms"]
                if first:
                    at = dt.datetime.fromisoformat(str(e["at"]).rstrip("Z"))
                    start = at - dt.timedelta(milliseconds=e["duration_ms"])
                    out["dispatch_ms"] = (
                        start - created
                    ).total_seconds() * 1000
                    first = False
    except (KeyError, TypeError, ValueError):
        pass
    return out


def run_cycle(
    client: Client, idx: int, image: str, args, deadline: Deadline, tag: str
) -> dict:
    rec = {"i": idx, "ok": False, "requests": 0}
    limit = time.perf_counter() + min(
        args.cycle_timeout, max(1.0, deadline.left())
    )
    iid = None
    deleted = False
    try:
        t0 = time.perf_counter()
        try:
            inst = client.instances.create(
                f"{tag}-{idx}", flavor=FLAVOR, image=image
            )
        except ArameError as e:
            raise CycleError(f"POST /v1/instances: {describe(e)}") from e
        finally:
            rec["requests"] += 1
        rec["post_ms"] = (time.perf_counter() - t0) * 1000
        iid = inst["id"]
        rec["task_id"] = inst["task_id"]
        task, seen, polls = wait_task(
            client, inst["task_id"], args.poll, limit, deadline
        )
        rec["requests"] += polls
        if task["status"] != "done":
            err = task.get("error") or {}
            raise CycleError(
                f"create task failed at {err.get('step')}: "
                f"{err.get('message')}"
            )
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
        task, seen, polls = wait_task(
            client, d["task_id"], args.poll, limit, deadline
        )
        rec["requests"] += polls
        if task["status"] != "done":
            err = task.get("error") or {}
            raise CycleError(
                f"delete task failed at {err.get('step')}: "
                f"{err.get('message')}"
            )
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


def run_load(
    dep,
    token: str,
    image: str,
    count: int,
    args,
    deadline: Deadline,
    tag: str,
    progress: bool = True,
    on_half=None,
) -> tuple[list[dict], float]:
    """`count` cycles on `args.concurrency` workers; (records, wall seconds)."""
    lock = threading.Lock()
    nxt = iter(range(count))
    records: list[dict] = []

    def take():
        with lock:
            return next(nxt, None)

    def worker():
        with Client(dep.api_url, token=token, timeout=args.http_timeout) as c:
            while not deadline.passed():
                idx = take()
                if idx is None:
                    break
                rec = run_cycle(c, idx, image, args, deadline, tag)
                with lock:
                    records.append(rec)

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
                log(
                    f"  {tag}: {n}/{count} cycles, {ok} ok, "
                    f"{ok / el:.1f} cycles/s"
                )
            if on_half and not half_done and n >= count // 2:
                half_done = True
                on_half()

    rep = threading.Thread(target=reporter, daemon=True)
    rep.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(
            args.concurrency, thread_name_prefix="w"
        ) as ex:
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
    errors = collections.Counter(
        normalise(r["error"]) for r in records if not r["ok"]
    )
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


def find_image(dep, token: str) -> str:
    with Client(dep.api_url, token=token) as c:
        for img in c.images.list(all=True):
            if img["name"] == IMAGE_NAME and img["status"] == "available":
                return img["id"]
    raise RuntimeError(f"no available image named {IMAGE_NAME}")


def warm_up(
    dep, token: str, image: str, args, deadline: Deadline
) -> tuple[dict, list[dict]]:
    """`args.warmup` untimed cycles: (what the report keeps of them, their
    records)."""
    log(f"warm-up: {args.warmup} cycles")
    wrec, wwall = run_load(
        dep, token, image, args.warmup, args, deadline, "warm", progress=False
    )
    kept = {
        k: v
        for k, v in analyse(wrec, wwall, args.warmup).items()
        if k in ("cycles_ok", "cycles_attempted", "cycles_per_s", "errors")
    }
    return kept, wrec


def measure_load(
    dep, token: str, image: str, args, deadline: Deadline, meter=None
) -> dict:
    """The timed cycles, the CPU each process used meanwhile and a `top`
    taken half-way: {"cpu", "top", "load"}. `meter`: a CPUMeter counting
    other processes than the daemons and the servers on the deployment's
    broker and database ports (the clustered engines)."""
    log(f"load: {args.cycles} cycles at concurrency {args.concurrency}")
    meter = meter or CPUMeter(dep)
    tops: list = []
    th_top = []

    def on_half():
        t = threading.Thread(
            target=lambda: tops.append(top_snapshot()), daemon=True
        )
        t.start()
        th_top.append(t)

    meter.start()
    rec, wall = run_load(
        dep,
        token,
        image,
        args.cycles,
        args,
        deadline,
        "bench",
        on_half=on_half,
    )
    cpu = meter.stop()
    for t in th_top:
        t.join(20)
    load = analyse(rec, wall, args.cycles)
    ok = load["cycles_ok"]
    if ok:
        # CPU time each process spent per completed cycle
        cpu["cpu_ms_per_cycle"] = {
            k: round(v * cpu["wall_s"] * 1000 / ok, 1)
            for k, v in cpu["per_process_cores"].items()
        }
    if deadline.passed():
        load["stopped_by_deadline"] = True
    return {"cpu": cpu, "top": tops[0] if tops else [], "load": load}
