#!/usr/bin/env python3
"""The floor under a boot+delete cycle: what the same number of SQL
statements and commits, bus messages and HTTP requests as one cycle makes
costs this machine with nothing of Arame in between.

    python3 bench/cycle_floor.py                          # the cycle's counts, 2,000 cycles
    python3 bench/cycle_floor.py --arame-ms 171           # and the ratio to Arame's figure
    python3 bench/cycle_floor.py --parts sql bus --json

Each part runs alone, at the control-plane benchmark's concurrency, and is
charged the CPU of the processes it uses, read from /proc:
- sql: raw PyMySQL from this process (one connection per thread) to a
  database of the run's own on the machine's MariaDB; mariadbd and this
  process are charged (floor_sql.py);
- bus: Arame's oslo.messaging set-up from this process to a server
  process that answers calls and counts casts and notifications, in a
  vhost of the run's own on the machine's RabbitMQ; beam.smp, the server
  and this process are charged (floor_bus.py);
- http: httpx from this process to uvicorn + FastAPI serving an app that
  reads and writes nothing; the server and this process are charged
  (floor_http.py).

The counts default to one cycle's, as tests/functional/test_cycle_budget.py
counts them (statements by kind, transactions, casts, calls,
notifications) and as bench/control_plane.py prints them (HTTP requests
per cycle). Every part is a lower bound: real statements join and read
wider rows, real messages are bigger and reach more processes, the real
API checks a token and a policy and reads the database. So the sum is the
least CPU a cycle of this shape can cost on this machine and this stack,
to set beside the control-plane goal (40 ms for every process) and beside
Arame's measured figure. The database and vhost are dropped at the end.
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import time

# bench/lib: this script's directory is first on sys.path.
from lib import environment
from lib.broker import write_bus_conf
from lib.floor_bus import BusFloor
from lib.floor_bus import serve as serve_bus
from lib.floor_http import HTTPFloor
from lib.floor_http import serve as serve_http
from lib.floor_sql import SQLFloor
from lib.ports import free_port
from lib.resources import infra_pids, machine_cpu, proc_cpu_seconds
from lib.run import Deadline, log

GOAL_MS = 40.0
PARTS = ("sql", "bus", "http")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--cycles", type=int, default=2000, help="per part")
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    g = p.add_argument_group("one cycle's counts (test_cycle_budget.py)")
    g.add_argument("--selects", type=int, default=42)
    g.add_argument("--updates", type=int, default=20)
    g.add_argument("--inserts", type=int, default=12)
    g.add_argument("--deletes", type=int, default=1)
    g.add_argument("--commits", type=int, default=17)
    g.add_argument("--casts", type=int, default=4)
    g.add_argument("--calls", type=int, default=4)
    g.add_argument("--notifications", type=int, default=2)
    g.add_argument(
        "--http-requests",
        type=int,
        default=6,
        help="per cycle (control_plane.py prints it: 5.7 with long polls)",
    )
    p.add_argument(
        "--arame-ms",
        type=float,
        default=None,
        help="Arame's CPU per cycle, all processes, from a control-plane "
        "run in the same sitting: the ratio to the floor is printed",
    )
    p.add_argument("--max-seconds", type=float, default=900.0)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("--serve-bus", metavar="CONF", help=argparse.SUPPRESS)
    p.add_argument(
        "--serve-http", type=int, metavar="PORT", help=argparse.SUPPRESS
    )
    return p


def charged(part, infra: dict[int, str]) -> dict[int, str]:
    procs = {os.getpid(): "this process (the clients)"}
    procs.update(part.pids())
    procs.update(infra)
    return procs


def measure(
    part, procs: dict[int, str], cycles: int, deadline: Deadline
) -> dict:
    part.warm()
    before = {pid: proc_cpu_seconds(pid) for pid in procs}
    busy0, total0 = machine_cpu()
    t0 = time.perf_counter()
    done = part.run(cycles, deadline)
    wall = time.perf_counter() - t0
    busy1, total1 = machine_cpu()
    after = {pid: proc_cpu_seconds(pid) for pid in procs}
    ms = {}
    for pid, name in procs.items():
        if before[pid] is None or after[pid] is None or not done:
            continue
        ms[name] = ms.get(name, 0.0) + (after[pid] - before[pid]) * 1000 / done
    cores = os.cpu_count() or 1
    return {
        "cycles": done,
        "wall_s": wall,
        "cycles_per_s": done / wall if wall else None,
        "cpu_ms_per_cycle": ms,
        "total_ms": sum(ms.values()),
        "machine_busy_cores": (busy1 - busy0)
        / max(1, total1 - total0)
        * cores,
    }


def run(args) -> dict:
    import arame.cmd  # noqa: F401  (oslo's threading backend first)
    from arame.deploy import infra

    deadline = Deadline(args.max_seconds)
    rabbit, mariadb = infra.RabbitMQ(), infra.MariaDB()
    if not rabbit.running() or not mariadb.running():
        raise SystemExit(
            "RabbitMQ and MariaDB must run: python3 -m arame.deploy.infra ensure"
        )
    name = f"floor_{secrets.token_hex(4)}"
    password = secrets.token_hex(12)
    state = tempfile.mkdtemp(prefix=f"arame-{name}-")
    infra_procs = infra_pids(rabbit.port, mariadb.port)
    db = {p: c for p, c in infra_procs.items() if c in ("mariadbd", "mysqld")}
    broker = {p: c for p, c in infra_procs.items() if c == "beam.smp"}
    out = {
        "environment": environment.machine(),
        "code": environment.code_version(),
        "args": {
            k: v for k, v in vars(args).items() if not k.startswith("serve")
        },
        "parts": {},
    }
    script = os.path.abspath(__file__)
    mariadb.create_database(name, name, password)
    rabbit.create_vhost(name)
    try:
        for which in args.parts:
            log(
                f"{which}: {args.cycles} cycles at concurrency {args.concurrency}"
            )
            if which == "sql":
                part = SQLFloor(
                    {
                        "host": mariadb.host,
                        "port": mariadb.port,
                        "user": name,
                        "password": password,
                        "database": name,
                    },
                    {
                        "S": args.selects,
                        "U": args.updates,
                        "I": args.inserts,
                        "D": args.deletes,
                    },
                    args.commits,
                    args.concurrency,
                )
                procs = charged(part, db)
            elif which == "bus":
                conf = os.path.join(state, "floor-bus.conf")
                write_bus_conf(
                    conf,
                    rabbit.url(name),
                    os.path.join(state, "floor-bus.log"),
                )
                part = BusFloor(
                    script,
                    conf,
                    {
                        "casts": args.casts,
                        "calls": args.calls,
                        "notifications": args.notifications,
                    },
                    args.concurrency,
                )
                procs = charged(part, broker)
            else:
                part = HTTPFloor(
                    script, free_port(), args.http_requests, args.concurrency
                )
                procs = charged(part, {})
            try:
                out["parts"][which] = measure(
                    part, procs, args.cycles, deadline
                )
            finally:
                part.close()
            if out["parts"][which]["cycles"] < args.cycles:
                raise SystemExit(f"{which}: the run's deadline cut it short")
    finally:
        rabbit.delete_vhost(name)
        mariadb.drop_database(name)
        mariadb.drop_user(name)
    out["floor_ms"] = sum(p["total_ms"] for p in out["parts"].values())
    return out


def report(out: dict, args) -> None:
    a = out["args"]
    print(
        f"floor of one cycle: {a['selects']} SELECT, {a['updates']} UPDATE, "
        f"{a['inserts']} INSERT, {a['deletes']} DELETE in {a['commits']} "
        f"commits; {a['casts']} casts, {a['calls']} calls, "
        f"{a['notifications']} notifications; {a['http_requests']} HTTP "
        f"requests; concurrency {a['concurrency']}"
    )
    for which, p in out["parts"].items():
        print(
            f"  {which:5s} {p['cycles']} cycles, {p['cycles_per_s']:.1f}/s alone, "
            f"{p['total_ms']:.1f} ms CPU per cycle "
            f"(machine busy {p['machine_busy_cores']:.2f} cores)"
        )
        for name, ms in sorted(
            p["cpu_ms_per_cycle"].items(), key=lambda kv: -kv[1]
        ):
            print(f"        {name:45s} {ms:6.1f} ms")
    floor = out["floor_ms"]
    print(f"  floor, all parts: {floor:.1f} ms CPU per cycle")
    print(
        f"  goal (all processes): {GOAL_MS:.0f} ms -> floor / goal {floor / GOAL_MS:.2f}"
    )
    print(
        f"  cycles/s this machine's {os.cpu_count()} cores could give at the "
        f"floor: {1000 * (os.cpu_count() or 1) / floor:.0f}"
    )
    if args.arame_ms:
        print(
            f"  Arame (--arame-ms): {args.arame_ms:.1f} ms -> Arame / floor "
            f"{args.arame_ms / floor:.2f}"
        )


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.serve_bus:
        return serve_bus(args.serve_bus)
    if args.serve_http:
        return serve_http(args.serve_http)
    out = run(args)
    if args.json:
        print(json.dumps(out, indent=1, default=str))
    else:
        report(out, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
