#!/usr/bin/env python3
"""The scheduler at 1,000 and 10,000 hosts (issue 14), on MariaDB.

    python3 bench/scheduler.py                      # 1,000 and 10,000 hosts
    python3 bench/scheduler.py --hosts 1000 --instances 2000 --workers 4

1. Decision latency, in process, among --hosts hosts (each count in turn):
   the host cache (scheduler/host_cache.py: the rows changed since the
   last decision, then the best hosts of the ranking filtered until enough
   pass) against the reference measured in the same run, the path before
   it (load_hosts: every host row, then HostSelector.select: every host
   filtered and weighed). Before each decision, untimed, another
   "scheduler" claims on a random host (a Core UPDATE of its *_used, as
   claims.claim does), so that each refresh has a change to read. Shown:
   the whole decision (refresh or full read + choice) and the choice alone
   (filters + weigher + pick), p50/p95 in ms. Goal: <= 10 ms p95 at
   10,000 hosts.
   With --heartbeats N, a process of its own records N hosts' heartbeats
   a second meanwhile (the collector's record_inventory, as 10,000 hosts
   reporting every 10 s make 1,000 a second), once as the collector does
   now (liveness only: the change marker stays) and, as the reference,
   as it did before (every heartbeat stamped the row, so every refresh
   re-read each host that reported within the overlap).
2. Claims per second: --workers processes (spawned, each with its own
   engine and HostSelector, as a scheduler process has) race to place
   --instances pending instances over --race-hosts empty hosts; each
   runs, per instance, the build flow's own begin(), which takes the task
   and runs the schedule step in one transaction (cache refresh, choice,
   compare-and-set claim, a lost claim re-read, the move to `starting`,
   the step's records) against the database.
   Then the check: every host's *_used equals the sum of the instances
   claimed on it, no host past its capacity, every instance claimed once.
   Goal: >= 500 claims/s with 4 schedulers, 0 double allocations.

The database (arame_schedbench_<hex>, its own user) is made on the
machine's MariaDB (3306) and dropped at the end, also after a failure.
"""

import argparse
import multiprocessing
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import sched_world  # noqa: E402
from lib.stats import summary  # noqa: E402


def parse_conf() -> None:
    # oslo.service's threading backend, chosen before oslo.messaging loads
    # (a spawned worker starts here; it would import eventlet's).
    import arame.cmd  # noqa: F401
    from arame.common.conf import CONF

    CONF([], project="arame", default_config_files=[])


def _ms(values) -> dict:
    s = summary([v * 1000 for v in values])
    return {k: round(v, 2) for k, v in s.items()} if s else {}


def foreign_claim(s, names: list[str]) -> None:
    """What another scheduler's claim does to a host row."""
    import sqlalchemy as sa

    from arame.common.db import models

    H = models.Host
    s.execute(
        sa.update(H)
        .where(H.name == random.choice(names))
        .values(
            vcpus_used=H.vcpus_used + 1,
            memory_mb_used=H.memory_mb_used + 512,
            instance_count=H.instance_count + 1,
        )
        .execution_options(synchronize_session=False)
    )


def heartbeat_worker(url, names, per_s, stamp, ready, stop) -> None:
    """Heartbeats of `per_s` hosts a second, in batches every 0.1 s, as
    the collector records them; `stamp`: as it did before (the change
    marker moved by every heartbeat)."""
    parse_conf()
    sched_world.use(url)
    import sqlalchemy as sa

    from arame.collector.observations import record_inventory
    from arame.common.db import engine, models

    H = models.Host.__table__
    batch = max(1, int(per_s / 10))
    inventory = {"hypervisor_type": "fake", "storage_address": None}
    ready.set()
    at, i = time.monotonic(), 0
    while not stop.is_set():
        chunk = [names[(i + k) % len(names)] for k in range(batch)]
        i += batch
        now = models.utcnow()
        with engine.session() as s:
            if stamp:
                s.execute(
                    sa.update(H)
                    .where(H.c.name.in_(chunk))
                    .values(last_report_at=now, updated_at=now)
                )
            else:
                record_inventory(
                    s,
                    [
                        {"name": n, **inventory, **sched_world.HOST}
                        for n in chunk
                    ],
                    "vm",
                    now,
                )
        at += 0.1
        stop.wait(max(0.0, at - time.monotonic()))


def decisions(
    count: int, reps_old: int, reps_new: int, heartbeats=0, stamp=False
) -> dict:
    from arame.common.conf import CONF

    sched_world.set_hosts(count)
    beating = None
    if heartbeats:
        ctx = multiprocessing.get_context("spawn")
        ready, stop = ctx.Event(), ctx.Event()
        beating = ctx.Process(
            target=heartbeat_worker,
            args=(
                CONF.database.connection,
                [f"fake{i:05d}" for i in range(count)],
                heartbeats,
                stamp,
                ready,
                stop,
            ),
        )
        beating.start()
        ready.wait(120)
    try:
        return _decisions(count, reps_old, reps_new) | {
            "heartbeats": heartbeats,
            "stamped": stamp,
        }
    finally:
        if beating is not None:
            stop.set()
            beating.join(30)


def _decisions(count: int, reps_old: int, reps_new: int) -> dict:
    from arame.common.db import engine
    from arame.scheduler.host_state import RequestSpec, load_hosts
    from arame.scheduler.selector import HostSelector

    names = [f"fake{i:05d}" for i in range(count)]
    spec = RequestSpec("i-bench", "a-bench", "vm", 1, 512, 1)
    sel = HostSelector()

    old_total, old_choice, old_cpu = [], [], []
    for _ in range(reps_old):
        with engine.session() as s:
            foreign_claim(s, names)
        c0, t0 = time.thread_time(), time.perf_counter()
        with engine.session() as s:
            hosts = load_hosts(s)
        t1 = time.perf_counter()
        selection = sel.select(hosts, spec)
        t2 = time.perf_counter()
        assert selection.candidates
        old_cpu.append(time.thread_time() - c0)
        old_total.append(t2 - t0)
        old_choice.append(t2 - t1)

    cache = sel.cache
    with engine.session() as s, cache.lock:
        cache.refresh(s)  # the process's first (full) read: not timed
        sel.select_from(cache, spec)
    read_before = cache.rows_read
    new_total, new_choice, new_cpu, choice_cpu = [], [], [], []
    for _ in range(reps_new):
        with engine.session() as s:
            foreign_claim(s, names)
        c0, t0 = time.thread_time(), time.perf_counter()
        with engine.session() as s, cache.lock:
            cache.refresh(s)
            c1, t1 = time.thread_time(), time.perf_counter()
            selection = sel.select_from(cache, spec)
            c2, t2 = time.thread_time(), time.perf_counter()
        # The whole decision counts the read transaction's end.
        t3 = time.perf_counter()
        assert selection.candidates
        new_cpu.append(time.thread_time() - c0)
        choice_cpu.append(c2 - c1)
        new_total.append(t3 - t0)
        new_choice.append(t2 - t1)
    return {
        "hosts": count,
        "old": {
            "decision": _ms(old_total),
            "choice": _ms(old_choice),
            "cpu": _ms(old_cpu),
        },
        "new": {
            "decision": _ms(new_total),
            "choice": _ms(new_choice),
            "cpu": _ms(new_cpu),
            "choice_cpu": _ms(choice_cpu),
        },
        "rows_per_refresh": round(
            (cache.rows_read - read_before) / max(reps_new, 1), 1
        ),
    }


def race_worker(url, items, hosts, full, ready, go, out) -> None:
    """One scheduler process: begin() of each build (the take with the
    schedule step); with
    `hosts` (the reference), the bare claim alone on the next host of that
    list, with no flow and no decision; with `full` (the path before the
    cache), every host row read and every host weighed per decision."""
    parse_conf()
    sched_world.use(url)
    from arame.common.context import admin_context
    from arame.common.db import engine
    from arame.scheduler import claims
    from arame.scheduler.flows import build
    from arame.scheduler.leases import Leases
    from arame.scheduler.selector import HostSelector

    lost = [0]
    real_claim = claims.claim

    def counting_claim(*a, **kw):
        try:
            return real_claim(*a, **kw)
        except claims.ClaimLost:
            lost[0] += 1
            raise

    claims.claim = counting_claim
    sel = HostSelector()
    if full:
        sel.cache.refresh = sel.cache.reload
        sel.select_from = lambda cache, spec: sel.select(
            list(cache.states.values()), spec
        )
    with engine.session() as s, sel.cache.lock:
        sel.cache.refresh(s)  # the process starts with its full read
    read_at_start = sel.cache.rows_read
    ctxt = admin_context()
    # As the manager sets it: the task taken and fenced under a lease.
    leases = Leases()
    ready.put(os.getpid())
    go.wait()
    placed = failed = 0
    t0 = time.perf_counter()
    for n, (iid, tid) in enumerate(items):
        if hosts:
            try:
                claims.claim(iid, hosts[n % len(hosts)], 1, 512, 1)
                placed += 1
            except claims.ClaimLost:
                failed += 1
            continue
        flow = build.BuildFlow(ctxt, tid, iid, sel, hva=None)
        flow.leases = leases
        # The take and the schedule step, in one transaction.
        if not flow.begin() or flow.not_placed is not None:
            failed += 1
        else:
            placed += 1
        leases.drop(tid)
    out.put(
        {
            "placed": placed,
            "failed": failed,
            "lost_claims": lost[0],
            "seconds": time.perf_counter() - t0,
            "rows_read": sel.cache.rows_read - read_at_start,
        }
    )


def race(
    world,
    hosts: int,
    instances: int,
    workers: int,
    bare: bool = False,
    full: bool = False,
) -> dict:
    sched_world.set_hosts(hosts)
    sched_world.empty_hosts()
    pairs = sched_world.add_instances(
        instances, world.admin_id, world.image_id
    )
    ctx = multiprocessing.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(
            target=race_worker,
            args=(
                world.url,
                pairs[w::workers],
                # Each its own hosts: the bare claims never race.
                [f"fake{i:05d}" for i in range(w, hosts, workers)]
                if bare
                else None,
                full,
                ready,
                go,
                out,
            ),
        )
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            ready.get(timeout=120)
        t0 = time.perf_counter()
        go.set()
        results = [out.get(timeout=600) for _ in procs]
        wall = time.perf_counter() - t0
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    placed = sum(r["placed"] for r in results)
    return {
        "hosts": hosts,
        "instances": instances,
        "workers": workers,
        "placed": placed,
        "failed": sum(r["failed"] for r in results),
        "lost_claims": sum(r["lost_claims"] for r in results),
        "wall_s": round(wall, 2),
        "claims_per_s": round(placed / wall, 1),
        "per_worker_claims_per_s": [
            round(r["placed"] / r["seconds"], 1) for r in results
        ],
        "check": sched_world.double_allocations(),
        "rows_per_placement": round(
            sum(r["rows_read"] for r in results) / max(placed, 1), 1
        ),
    }


def report_decisions(d: dict) -> None:
    o, n = d["old"], d["new"]
    beats = ""
    if d["heartbeats"]:
        how = "each stamping its row (before)" if d["stamped"] else "now"
        beats = f", {d['heartbeats']} heartbeats/s recorded {how}"
    print(f"\n-- decision among {d['hosts']} hosts (ms){beats} --")
    print(f"{'':34}{'p50':>9}{'p95':>9}{'n':>6}")
    for label, fig in (
        ("reference: load_hosts + select", o["decision"]),
        ("  of which select (choice)", o["choice"]),
        ("  CPU of this process", o["cpu"]),
        ("host cache: refresh + choice", n["decision"]),
        ("  of which choice", n["choice"]),
        ("  CPU of this process", n["cpu"]),
        ("  CPU of the choice", n["choice_cpu"]),
    ):
        print(f"{label:34}{fig['p50']:9.2f}{fig['p95']:9.2f}{fig['n']:6d}")
    print(
        f"ratio reference/cache, whole decision p95: "
        f"{o['decision']['p95'] / n['decision']['p95']:.0f}x; "
        f"rows read per refresh {d['rows_per_refresh']}"
    )
    for what, fig in (
        ("whole decision", n["decision"]),
        ("choice", n["choice"]),
    ):
        goal = "met" if fig["p95"] <= 10 else "NOT MET"
        print(f"goal <= 10 ms p95 ({what}, wall clock): {goal}")


def report_race(r: dict, ref: dict | None, old: dict | None) -> None:
    print(
        f"\n-- claims: {r['workers']} scheduler processes, "
        f"{r['instances']} instances over {r['hosts']} hosts --"
    )
    if ref is not None:
        print(
            f"reference: the bare compare-and-set claim (claims.claim, no "
            f"flow, no decision, no race), {ref['workers']} processes: "
            f"{ref['claims_per_s']} claims/s"
        )
    print(
        f"placed {r['placed']}, failed {r['failed']}, lost claims "
        f"{r['lost_claims']}, wall {r['wall_s']} s, host rows read per "
        f"placement {r['rows_per_placement']}"
    )
    print(
        f"claims/s {r['claims_per_s']} (per process "
        f"{r['per_worker_claims_per_s']}); goal >= 500: "
        f"{'met' if r['claims_per_s'] >= 500 else 'NOT MET'}"
    )
    if old is not None:
        print(
            f"reference: the same builds, every host row read and weighed "
            f"per decision (the path before the cache), {old['instances']} "
            f"instances: {old['claims_per_s']} claims/s, double "
            f"allocations {_doubles(old)}"
        )
        print(
            f"ratio cache / full read: "
            f"{r['claims_per_s'] / old['claims_per_s']:.2f}"
        )
    if ref is not None:
        print(
            f"ratio schedule step / bare claim: "
            f"{r['claims_per_s'] / ref['claims_per_s']:.2f}"
        )
    print(f"check: {r['check']}; double allocations: {_doubles(r)}")


def _doubles(r: dict) -> int:
    c = r["check"]
    return (
        c["hosts_mismatched"]
        + c["hosts_over_capacity"]
        + c["instances_inconsistent"]
        + (c["claimed"] != r["placed"])
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--hosts", type=int, nargs="+", default=[1000, 10000])
    p.add_argument(
        "--reference-reps",
        type=int,
        default=30,
        help="decisions timed on the path before the cache",
    )
    p.add_argument("--reps", type=int, default=300)
    p.add_argument("--race-hosts", type=int, default=1000)
    p.add_argument("--instances", type=int, default=1000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument(
        "--reference-instances",
        type=int,
        default=300,
        help="builds placed on the path before the cache (slow)",
    )
    p.add_argument("--skip-race", action="store_true")
    p.add_argument(
        "--heartbeats",
        type=int,
        default=0,
        help="hosts' heartbeats recorded per second during the decisions "
        "(a process of its own), each count timed twice: heartbeats as "
        "recorded before (row stamped) and now",
    )
    args = p.parse_args(argv)
    parse_conf()
    world = sched_world.World()
    try:
        world.create()
        print(f"database {world.database}; cpus {os.cpu_count()}")
        for count in args.hosts:
            for stamp in (True, False) if args.heartbeats else (False,):
                report_decisions(
                    decisions(
                        count,
                        args.reference_reps,
                        args.reps,
                        args.heartbeats,
                        stamp,
                    )
                )
        if not args.skip_race:
            ref = race(
                world,
                args.race_hosts,
                args.instances,
                args.workers,
                bare=True,
            )
            old = race(
                world,
                args.race_hosts,
                args.reference_instances,
                args.workers,
                full=True,
            )
            report_race(
                race(world, args.race_hosts, args.instances, args.workers),
                ref,
                old,
            )
    finally:
        world.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
