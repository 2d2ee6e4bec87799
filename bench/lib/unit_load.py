"""One trial of bench/units.py: a unit of N nodes created and cleaned up
(the group deleted), or its reference, N instances created by N concurrent
`POST /v1/instances` and deleted the same way, each timed from the client.

Both sides poll at the same interval with about as many requests per tick:
the unit its parent task and `GET /v1/units/{id}`, the reference one
`GET /v1/instances?name=<its prefix>-*` (not N task polls, which would load
the API N times as much and slow the side being compared)."""

import concurrent.futures
import datetime as dt
import os
import threading
import time

from arame.sdk import ArameError, Client

from .run import Deadline

MARKER = b"ARAME-TEST-IMAGE booted"
FINAL = ("done", "failed")


class TrialError(Exception):
    pass


class Ctx:
    """What every trial of a run shares."""

    def __init__(self, target, args, deadline: Deadline):
        self.target = target
        self.flavor = args.flavor
        self.image = target.image
        self.poll = args.poll
        self.timeout = args.trial_timeout
        self.deadline = deadline
        self.console_dir = target.console_dir
        self.client = target.client()
        # The reference's N concurrent POSTs each from its own connection,
        # opened before the clock starts.
        self.pool = [target.client() for _ in range(max(args.sizes))]
        for c in [self.client, *self.pool]:
            c._session.get("/v1/version")

    def close(self):
        for c in [self.client, *self.pool]:
            c.close()

    def limit(self) -> float:
        return time.perf_counter() + min(
            self.timeout, max(1.0, self.deadline.left())
        )


def _describe(e: Exception) -> str:
    if isinstance(e, ArameError):
        return f"HTTP {e.status_code} {e.code}: {e.message}"
    return f"{type(e).__name__}: {e}"


class Booted:
    """Which guests have printed the test image's marker on their console
    (real guests only: the console log under the instances directory)."""

    def __init__(self, console_dir: str | None):
        self.dir = console_dir
        self.at: dict[str, float] = {}

    def check(self, ids, t: float) -> None:
        if self.dir is None:
            return
        for iid in ids:
            if iid in self.at:
                continue
            try:
                with open(
                    os.path.join(self.dir, iid, "console.log"), "rb"
                ) as f:
                    if MARKER in f.read():
                        self.at[iid] = t
            except FileNotFoundError:
                pass

    def all(self, n: int) -> bool:
        return self.dir is None or len(self.at) >= n


def _cpu(meter, phase):
    """CPU of the deployment's processes over a phase, in ms: the Arame
    daemons, and everything measured (with MariaDB and RabbitMQ, which
    others may share; without the bench itself)."""
    if meter is None:
        return phase()
    meter.start()
    out = phase()
    cpu = meter.stop()
    daemons = set(meter_daemons(meter))
    ms = {
        k: v * cpu["wall_s"] * 1000
        for k, v in cpu["per_process_cores"].items()
    }
    out["cpu_ms"] = {
        "daemons": round(sum(v for k, v in ms.items() if k in daemons)),
        "with_db_broker": round(
            sum(v for k, v in ms.items() if not k.startswith("bench"))
        ),
        "other_cores": cpu["other_cores"],
        "per_process": {k: round(v) for k, v in ms.items()},
    }
    return out


def meter_daemons(meter) -> list[str]:
    return [
        n
        for n in meter.procs.values()
        if not n.startswith(("bench", "beam", "mariadbd", "mysqld"))
    ]


def _server_view(task: dict) -> dict:
    """From the parent task's events (server clocks): when the first and the
    last node ended and when the parent did, from its creation, in s."""
    try:
        created = dt.datetime.fromisoformat(str(task["created_at"]))
        ended = dt.datetime.fromisoformat(str(task["updated_at"]))
        ats = [
            dt.datetime.fromisoformat(str(e["at"]))
            for e in task.get("events") or []
            if str(e.get("step", "")).startswith("node ")
        ]
        durs = [
            e["duration_ms"] / 1000
            for e in task.get("events") or []
            if e.get("duration_ms") is not None
        ]
    except (KeyError, TypeError, ValueError):
        return {}
    out = {"parent_s": (ended - created).total_seconds()}
    if ats:
        out["first_node_s"] = (min(ats) - created).total_seconds()
        out["last_node_s"] = (max(ats) - created).total_seconds()
    if durs:
        out["node_task_max_s"] = max(durs)
    return out


def _wait_task(client, task_id, poll, limit, deadline, what) -> dict:
    while True:
        task = client.tasks.get(task_id)
        if task["status"] in FINAL:
            return task
        if time.perf_counter() > limit or deadline.passed():
            raise TrialError(f"{what}: task still {task['status']}")
        time.sleep(poll)


# -- the unit ----------------------------------------------------------------


def unit_trial(ctx: Ctx, n: int, tag: str) -> dict:
    c = ctx.client
    rec = {"kind": "unit", "n": n, "ok": False}
    gid = None
    try:
        t = time.perf_counter()
        gid = c.unit_groups.create(f"ub-{tag}")["id"]
        rec["group_post_s"] = time.perf_counter() - t
        rec.update(_cpu(ctx.target.meter(), lambda: _unit_up(ctx, gid, n)))
        t0 = time.perf_counter()
        task_id = c.unit_groups.delete(gid)["task_id"]
        task = _wait_task(
            c, task_id, ctx.poll, ctx.limit(), ctx.deadline, "cleanup"
        )
        rec["cleanup_s"] = time.perf_counter() - t0
        if task["status"] != "done":
            raise TrialError(f"cleanup failed: {task.get('error')}")
        gid = None
        rec["ok"] = True
    except (TrialError, ArameError) as e:
        rec["error"] = _describe(e)
    finally:
        if gid is not None:  # untimed: leave nothing for the next trial
            try:
                tid = c.unit_groups.delete(gid)["task_id"]
                _wait_task(
                    c,
                    tid,
                    0.5,
                    time.perf_counter() + 600,
                    Deadline(600),
                    "cleanup",
                )
            except Exception as e:  # noqa: BLE001 - reported, run goes on
                rec["cleanup_error"] = _describe(e)
    return rec


def _unit_up(ctx: Ctx, gid: str, n: int) -> dict:
    c = ctx.client
    spec = {"provider": "vm", "flavor": ctx.flavor, "image": ctx.image}
    out = {}
    limit = ctx.limit()
    t0 = time.perf_counter()
    u = c.units.create(gid, "u", spec, count=n)
    out["post_s"] = time.perf_counter() - t0
    task = None
    running: dict[str, float] = {}
    booted = Booted(ctx.console_dir)
    while True:
        if task is None:
            t = c.tasks.get(u["task_id"])
            if t["status"] in FINAL:
                task = t
                out["task_done_s"] = time.perf_counter() - t0
                if t["status"] == "failed":
                    raise TrialError(f"unit task failed: {t.get('error')}")
        if "running_s" not in out:
            nodes = c.units.get(u["id"])["nodes"]
            now = time.perf_counter() - t0
            for nd in nodes:
                if nd["status"] == "error":
                    raise TrialError(
                        f"node {nd['name']} error: {nd.get('status_reason')}"
                    )
                if nd["status"] == "running":
                    running.setdefault(nd["id"], now)
            if len(running) >= n:
                out["running_s"] = max(running.values())
                out["first_running_s"] = min(running.values())
        if ctx.console_dir:
            booted.check(list(running), time.perf_counter() - t0)
        if task is not None and "running_s" in out and booted.all(n):
            break
        if time.perf_counter() > limit or ctx.deadline.passed():
            raise TrialError(
                f"unit of {n}: {len(running)} running, "
                f"task {'ended' if task else 'running'} at the timeout"
            )
        time.sleep(ctx.poll)
    if ctx.console_dir:
        out["booted_s"] = max(booted.at.values())
    out["server"] = _server_view(task)
    return out


# -- the reference: N instances at once ---------------------------------------


def reference_trial(ctx: Ctx, n: int, tag: str) -> dict:
    rec = {"kind": "reference", "n": n, "ok": False}
    prefix = f"r{tag}"
    ids: list[str] = []
    try:
        rec.update(
            _cpu(ctx.target.meter(), lambda: _ref_up(ctx, prefix, n, ids))
        )
        rec["cleanup_s"] = _ref_delete(ctx, prefix, ids, ctx.limit())
        ids = []
        rec["ok"] = True
    except (TrialError, ArameError) as e:
        rec["error"] = _describe(e)
    finally:
        if ids:
            try:
                _ref_delete(ctx, prefix, ids, time.perf_counter() + 600)
            except Exception as e:  # noqa: BLE001 - reported, run goes on
                rec["cleanup_error"] = _describe(e)
    return rec


def _at_once(clients: list[Client], calls) -> tuple[list, float]:
    """Each call on its own client and thread, released together; returns
    the results and the perf_counter at the release."""
    go = threading.Event()

    def run(i):
        go.wait()
        return calls[i](clients[i])

    with concurrent.futures.ThreadPoolExecutor(len(calls)) as ex:
        futs = [ex.submit(run, i) for i in range(len(calls))]
        time.sleep(0.05)  # every thread waiting on `go`
        t0 = time.perf_counter()
        go.set()
        results = []
        errors = []
        for f in futs:
            try:
                results.append(f.result())
            except Exception as e:  # noqa: BLE001 - all collected first
                errors.append(e)
    if errors:
        raise TrialError(
            f"{len(errors)} of {len(calls)} requests failed: "
            + _describe(errors[0])
        )
    return results, t0


def _ref_up(ctx: Ctx, prefix: str, n: int, ids: list[str]) -> dict:
    limit = ctx.limit()

    def post(i):
        def call(c):
            inst = c.instances.create(
                f"{prefix}-{i + 1}", flavor=ctx.flavor, image=ctx.image
            )
            return inst["id"], time.perf_counter()

        return call

    try:
        made, t0 = _at_once(ctx.pool[:n], [post(i) for i in range(n)])
    except TrialError:
        # What did get made must go too.
        ids.extend(
            i["id"]
            for i in ctx.client.instances.list(name=f"{prefix}-*", limit=1000)
        )
        raise
    ids.extend(m[0] for m in made)
    out = {"post_s": max(m[1] for m in made) - t0}
    running: dict[str, float] = {}
    booted = Booted(ctx.console_dir)
    while True:
        # Once every node runs, only the consoles are read, as on the
        # unit's side: polls while guests boot would cost one side alone.
        if len(running) < n:
            items = ctx.client.instances.list(name=f"{prefix}-*", limit=1000)
            now = time.perf_counter() - t0
            for i in items:
                if i["status"] == "error":
                    raise TrialError(
                        f"instance {i['name']} error: {i.get('status_reason')}"
                    )
                if i["status"] == "running":
                    running.setdefault(i["id"], now)
        if ctx.console_dir:
            booted.check(list(running), time.perf_counter() - t0)
        if len(running) >= n and booted.all(n):
            break
        if time.perf_counter() > limit or ctx.deadline.passed():
            raise TrialError(f"reference of {n}: {len(running)} running")
        time.sleep(ctx.poll)
    out["running_s"] = max(running.values())
    out["first_running_s"] = min(running.values())
    if ctx.console_dir:
        out["booted_s"] = max(booted.at.values())
    return out


def _ref_delete(ctx: Ctx, prefix: str, ids: list[str], limit) -> float:
    def delete(iid):
        return lambda c: c.instances.delete(iid)

    _, t0 = _at_once(ctx.pool[: len(ids)], [delete(i) for i in ids])
    want = set(ids)
    while True:
        items = ctx.client.instances.list(name=f"{prefix}-*", limit=1000)
        live = {
            i["id"]
            for i in items
            if i["id"] in want and i["status"] != "terminated"
        }
        if any(i["status"] == "error" for i in items if i["id"] in live):
            raise TrialError("a reference instance went to error on delete")
        if not live:
            return time.perf_counter() - t0
        if time.perf_counter() > limit or ctx.deadline.passed():
            raise TrialError(f"reference delete: {len(live)} not terminated")
        time.sleep(ctx.poll)


# -- what one poll costs ------------------------------------------------------


def poll_cost(ctx: Ctx, n: int, reps: int, api_pid: int | None) -> dict:
    """Each side's poll requests, sequential on the idle deployment, over a
    unit of n running nodes and n running instances: latency and the API's
    CPU per request. A unit's tick is a task GET and a unit GET, the
    reference's one instance list, so this tells how evenly the two sides
    load the API while they wait."""
    from .resources import proc_cpu_seconds

    c = ctx.client
    tag = f"pc{os.getpid() % 1000}"
    gid = c.unit_groups.create(f"ub-{tag}")["id"]
    ids: list[str] = []
    out: dict = {"nodes": n, "requests": reps}
    try:
        spec = {"provider": "vm", "flavor": ctx.flavor, "image": ctx.image}
        u = c.units.create(gid, "u", spec, count=n)
        task = _wait_task(
            c, u["task_id"], ctx.poll, ctx.limit(), ctx.deadline, "unit"
        )
        if task["status"] != "done":
            raise TrialError(f"unit task failed: {task.get('error')}")
        _ref_up(ctx, tag, n, ids)
        paths = [
            ("unit: GET /v1/tasks/{id}", f"/v1/tasks/{u['task_id']}", None),
            ("unit: GET /v1/units/{id}", f"/v1/units/{u['id']}", None),
            (
                "reference: GET /v1/instances?name=",
                "/v1/instances",
                {"name": f"{tag}-*", "limit": 1000},
            ),
        ]
        for label, path, params in paths:
            for _ in range(10):  # warm
                c._session.get(path, params=params)
            cpu0 = proc_cpu_seconds(api_pid) if api_pid else None
            t0 = time.perf_counter()
            for _ in range(reps):
                c._session.get(path, params=params)
            el = time.perf_counter() - t0
            cpu1 = proc_cpu_seconds(api_pid) if api_pid else None
            out[label] = {
                "ms": el * 1000 / reps,
                "api_cpu_ms": (cpu1 - cpu0) * 1000 / reps
                if cpu0 is not None and cpu1 is not None
                else None,
            }
    finally:
        tid = c.unit_groups.delete(gid)["task_id"]
        _wait_task(c, tid, 0.2, time.perf_counter() + 600, Deadline(600), "")
        if ids:
            _ref_delete(ctx, tag, ids, time.perf_counter() + 600)
    return out
