#!/usr/bin/env python3
"""Recovery benchmark (issue 17): the chaos suite's faults one at a time
under a steady load, and for each the time from the kill until every
request it touched is final, and the dip in throughput.

    python3 bench/recovery.py                  # every fault, in order
    python3 bench/recovery.py --only hva --only broker
    python3 bench/recovery.py --json > result.json

The deployment and the faults are the chaos suite's own, imported from
tests/chaos (deployment.py: ChaosDeployment, chaos_conf, DAEMONS;
faults.py: kill_and_restart, wait_work_in_flight, kill_broker,
kill_database), so the bench measures exactly the faults the suite proves:
every daemon its own process (two schedulers, collector, API, fake hva
with a spawn delay, fake sta, fake nsa, their state in files), on the
shipped recovery settings, each daemon SIGKILLed while work is in flight
and started again as before, the broker's beam.smp and mariadbd
SIGKILLed and brought back. By default the broker and the database are
the bench's own (lib/recovery_infra.py): the machine's are shared with
other people's test runs; --shared-infra kills the machine's instead.

A steady load of boot+delete cycles over HTTP (--concurrency workers)
runs throughout. First a baseline window with no fault gives the
reference throughput (cycles/s); then each fault, one at a time:
 - the affected requests: sent before the victim was back, and not final
   when it was killed (in flight at the kill, or sent during the outage);
 - recovery: from the kill to the first poll that saw the last of them
   final (done, or failed with a reason: counted as an error too);
 - the dip: successful cycles in the --window s after the kill against
   the baseline rate;
 - errors: failed tasks, refusals, requests unanswered in 60 s;
then a settle pause before the next. A window with no fault closes the
run. The deployment is torn down whatever happens; its state directory
(config, logs) is kept for inspection unless --rm-state.
"""

import argparse
import datetime as dt
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time

# bench/lib is importable as `lib` (this script's directory is first on
# sys.path); the chaos suite as `tests.chaos` from the repository root.
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, REPO)

from lib import (  # noqa: E402
    deployment,
    environment,
    recovery_infra,
    recovery_measure,
    recovery_report,
)
from lib import recovery_deployment as rdep  # noqa: E402
from lib.broker import PrivateRabbitMQ  # noqa: E402
from lib.recovery_load import SteadyLoad  # noqa: E402
from lib.run import Deadline, log  # noqa: E402

# oslo.service's threading backend, selected before anything loads
# oslo.messaging (which would pick eventlet).
import arame.cmd  # noqa: E402, F401
from arame.deploy import infra  # noqa: E402
from tests.chaos import faults  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--only",
        action="append",
        choices=rdep.FAULTS,
        metavar="FAULT",
        help="run this fault only (repeatable): " + ", ".join(rdep.FAULTS),
    )
    p.add_argument("--concurrency", type=int, default=6)
    p.add_argument(
        "--spawn-delay",
        type=float,
        default=3.0,
        help="seconds the fake hypervisor takes to spawn (default 3)",
    )
    p.add_argument(
        "--warmup", type=float, default=15, help="seconds before the baseline"
    )
    p.add_argument(
        "--baseline",
        type=float,
        default=30,
        help="seconds of load with no fault for the reference rate",
    )
    p.add_argument(
        "--window",
        type=float,
        default=30,
        help="seconds after a kill whose cycles give the dip",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=10,
        help="pause after a fault's window and recovery, before the next",
    )
    p.add_argument(
        "--patience",
        type=float,
        default=180,
        help="seconds after a kill to wait for its requests to be final",
    )
    p.add_argument("--target", type=float, default=15.0)
    p.add_argument("--poll", type=float, default=0.2)
    p.add_argument("--startup-timeout", type=float, default=300)
    p.add_argument(
        "--max-seconds",
        type=float,
        default=1800,
        help="the whole run stops by this (default 1800)",
    )
    p.add_argument(
        "--shared-infra",
        action="store_true",
        help="run on, and kill, the machine's RabbitMQ and MariaDB "
        "(other people's tests on them fail) instead of the bench's own",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="extra option in the deployment's config (repeatable)",
    )
    p.add_argument("--rm-state", action="store_true")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("--save", metavar="PATH", help="also write the JSON here")
    return p


def pause(seconds: float, deadline: Deadline) -> None:
    # Spacing the windows is the plan, not a wait for a condition.
    threading.Event().wait(max(0.0, min(seconds, deadline.left())))


def wait_recovered(load, fault, args, deadline: Deadline) -> None:
    """Until every affected request has ended and the window has passed,
    or the patience or the run's deadline is spent."""
    end = fault.killed_at + args.patience
    while not deadline.passed() and time.monotonic() < end:
        requests, _ = load.snapshot()
        windowed = time.monotonic() >= fault.killed_at + args.window
        if windowed and recovery_measure.settled(requests, fault):
            return
        pause(0.5, deadline)


def run_faults(dep, load, names, baseline, args, deadline) -> list[dict]:
    out = []
    for name in names:
        if deadline.left() < args.window + 60:
            out.append(
                {"name": name, "failure": "no time left (--max-seconds)"}
            )
            continue
        log(f"fault {name} ...")
        cpu = recovery_measure.CPUWindow(lambda: rdep.run_pids(dep))
        flog = faults.Faults()
        try:
            fault = rdep.inject(dep, name, flog)
        except Exception as e:  # noqa: BLE001 - report it, go on
            out.append({"name": name, "failure": f"{type(e).__name__}: {e}"})
            log(f"  {name}: {type(e).__name__}: {e}")
            # A broker or database that did not come back takes the rest.
            dep.rabbit.ensure_running()
            dep.mariadb.ensure_running()
            pause(args.settle, deadline)
            continue
        wait_recovered(load, fault, args, deadline)
        requests, cycles = load.snapshot()
        r = recovery_measure.measure(
            fault, requests, cycles, baseline, args.window
        )
        r["name"] = name
        r["cpu"] = cpu.end()
        out.append(r)
        log(
            f"  {name}: back {r['back_s']} s, {r['affected']} affected, "
            f"recovery {r['recovery_s']} s, dip {r['dip_pct']} %, "
            f"{len(r['errors'])} error(s)"
        )
        pause(args.settle, deadline)
    return out


def window(load, seconds, dep, deadline) -> dict:
    cpu = recovery_measure.CPUWindow(lambda: rdep.run_pids(dep))
    t0 = time.monotonic()
    pause(seconds, deadline)
    t1 = time.monotonic()
    _, cycles = load.snapshot()
    return {
        "seconds": round(t1 - t0, 1),
        "cycles_per_s": round(recovery_measure.rate(cycles, t0, t1), 3),
        "cpu": cpu.end(),
    }


def summarise(load: SteadyLoad) -> dict:
    requests, cycles = load.snapshot()
    outcomes: dict = {}
    for r in requests:
        k = r.outcome or "in flight"
        outcomes[k] = outcomes.get(k, 0) + 1
    return {
        "cycles": len(cycles),
        "cycles_ok": sum(c.ok for c in cycles),
        "requests": len(requests),
        "outcomes": outcomes,
        "crashed": load.crashed,
    }


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    names = [f for f in rdep.FAULTS if not args.only or f in args.only]
    deadline = Deadline(args.max_seconds)

    def on_term(signum, _frame):
        deadline.cancel()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    name = f"bench_{secrets.token_hex(4)}"
    state_dir = tempfile.mkdtemp(prefix=f"arame-{name}-", dir="/tmp")
    res = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": environment.machine(),
        "versions": environment.versions(),
        "code": environment.code_version(),
        "args": dict(vars(args)),
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
    }
    if args.shared_infra:
        rabbit, mariadb = infra.RabbitMQ(), infra.MariaDB()
    else:
        rabbit = PrivateRabbitMQ(name)
        mariadb = recovery_infra.PrivateMariaDB(name)
    res["infra"] = {
        "shared": args.shared_infra,
        "rabbit_port": rabbit.port,
        "mariadb_port": mariadb.port,
    }
    dep = load = None
    rc = 0
    try:
        log("broker and database ...")
        rabbit.ensure_running()
        mariadb.ensure_running()
        dep = rdep.build(
            name,
            state_dir,
            rabbit,
            mariadb,
            args.spawn_delay,
            deployment.parse_overrides(args.set),
        )
        res["deployment"] = {"name": name, "state_dir": state_dir}
        log(f"deployment {name} on {dep.api_url}, state {state_dir}")
        res["deployment"].update(rdep.start(dep, args.startup_timeout))
        load = SteadyLoad(
            dep,
            concurrency=args.concurrency,
            poll=args.poll,
            patience=args.patience,
        ).start()
        log(f"load: {args.concurrency} workers; warm-up {args.warmup:g} s")
        pause(args.warmup, deadline)
        log(f"baseline {args.baseline:g} s ...")
        res["baseline"] = window(load, args.baseline, dep, deadline)
        log(f"  {res['baseline']['cycles_per_s']} cycles/s")
        res["faults"] = run_faults(
            dep, load, names, res["baseline"]["cycles_per_s"], args, deadline
        )
        log(f"after the faults: {args.baseline:g} s with none ...")
        res["baseline_after"] = window(load, args.baseline, dep, deadline)
    except BaseException as e:  # noqa: B902 - report, then tear down
        deadline.cancel()
        res["failure"] = f"{type(e).__name__}: {e}"
        rc = 1
    finally:
        rc = teardown(res, dep, load, rabbit, mariadb, args) or rc
        if args.rm_state:
            shutil.rmtree(state_dir, ignore_errors=True)
    recovery_report.output(res, args.json, args.save)
    slow = [
        f
        for f in res.get("faults", [])
        if f.get("recovery_s") is None or f["recovery_s"] > args.target
    ]
    return rc or (2 if slow else 0)


def teardown(res, dep, load, rabbit, mariadb, args) -> int:
    rc = 0
    if load is not None:
        load.stop()
        res["load"] = summarise(load)
    if dep is not None:
        log("tearing down (daemons, vhost, database) ...")
        try:
            # A fault may have left the broker or the database down: the
            # teardown needs both.
            rabbit.ensure_running()
            mariadb.ensure_running()
            res["teardown"] = deployment.teardown(dep)
        except BaseException as e:  # noqa: B902 - still stop everything
            res["teardown_error"] = f"{type(e).__name__}: {e}"
            rc = 1
            for d in list(dep.daemons):
                dep.stop(d)
        res["log_errors"] = deployment.log_errors(dep.log_dir)
    if not args.shared_infra:
        log("stopping the bench's RabbitMQ and MariaDB ...")
        for what in (rabbit, mariadb):
            try:
                what.stop()
            except Exception as e:  # noqa: BLE001 - stop the other too
                res["teardown_error"] = f"{type(e).__name__}: {e}"
                rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
