#!/usr/bin/env python3
"""Control-plane benchmark: boot+delete cycles over HTTP against a real
multi-process Arame deployment (RabbitMQ + MariaDB) with fake hypervisors,
and, on the same broker in the same run, the rates of the bus itself.

    python3 bench/control_plane.py                      # 100 hosts, 500 cycles, C=20
    python3 bench/control_plane.py --hosts 1000 --hva-procs 4 --private-rabbit
    python3 bench/control_plane.py --refs-only           # only the bus references
    python3 bench/control_plane.py --json > result.json
    python3 bench/control_plane.py --peer nova           # beside Nova: 50 hosts, 200 cycles, C=10

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

--peer nova: then, in the same sitting, the same cycles against Nova
(bench/peers/nova/, its README): Arame is measured and torn down, Nova is
brought up with as many fake computes as Arame had fake hosts, measured the
same way on the same broker and database, and brought down; both are
printed with the ratios (side_by_side.py says what CPU is counted).
"""

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time

# bench/lib: this script's directory is first on sys.path.
from lib import (
    broker,
    cluster_engines,
    deployment,
    engines_compare,
    environment,
    load,
    peer_measure,
    references,
    report,
    side_by_side,
)
from lib.ports import free_port
from lib.resources import CPUMeter
from lib.run import Deadline, log

# oslo.service's threading backend, selected before anything loads
# oslo.messaging (which would pick eventlet).
import arame.cmd  # noqa: F401
from arame.deploy import infra, local


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--hosts",
        type=int,
        default=None,
        help="fake hypervisor hosts (default 100; with --peer 50)",
    )
    p.add_argument(
        "--hva-procs",
        type=int,
        default=1,
        help="arame-hva processes sharing the fake hosts",
    )
    p.add_argument(
        "--cycles",
        type=int,
        default=None,
        help="boot+delete cycles (default 500; with --peer 200)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="cycles in flight (one thread and HTTP client each; "
        "default 20, with --peer 10)",
    )
    p.add_argument("--schedulers", type=int, default=2)
    p.add_argument("--collectors", type=int, default=1)
    p.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="untimed cycles first (default: the concurrency)",
    )
    p.add_argument(
        "--poll",
        type=float,
        default=0.0,
        help="seconds between task polls; 0 (the default): long polls "
        "(GET /v1/tasks/{id}?wait=, answered when the task changes)",
    )
    p.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="do not GET the instance to check it is running",
    )
    p.add_argument("--cycle-timeout", type=float, default=120.0)
    p.add_argument("--http-timeout", type=float, default=30.0)
    p.add_argument("--startup-timeout", type=float, default=600.0)
    p.add_argument(
        "--max-seconds",
        type=float,
        default=1800.0,
        help="the whole run stops by this (default 1800)",
    )
    p.add_argument("--ref-casts", type=int, default=5000)
    p.add_argument("--ref-calls", type=int, default=2000)
    p.add_argument("--ref-raw", type=int, default=20000)
    p.add_argument("--ref-raw-confirm", type=int, default=2000)
    p.add_argument(
        "--ref-http",
        type=int,
        default=500,
        help="sequential requests per path for the API cost "
        "reference (0: skip)",
    )
    p.add_argument(
        "--no-refs",
        dest="refs",
        action="store_false",
        default=None,
        help="skip the bus reference rates (skipped with --peer)",
    )
    p.add_argument(
        "--refs-only",
        action="store_true",
        help="only the bus reference rates (no deployment)",
    )
    p.add_argument(
        "--private-rabbit",
        action="store_true",
        help="run the deployment and the references on a RabbitMQ "
        "node of the bench's own (own port and data, file "
        "limit 20000) instead of the machine's broker; needed "
        "past ~800 fake hosts",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="extra option in the deployment's config (repeatable)",
    )
    p.add_argument(
        "--rm-state",
        action="store_true",
        help="remove the state directory (config, logs) at the end",
    )
    p.add_argument(
        "--peer",
        choices=("nova",),
        help="then run the same cycles against this peer control plane "
        "on the same machine, broker and database, and print both "
        "with the ratios",
    )
    p.add_argument(
        "--peer-dir",
        default=peer_measure.DEFAULT_DIR,
        help="the peer's venv, config, logs and state (installed there "
        "on first use; default %(default)s)",
    )
    p.add_argument(
        "--peer-poll",
        type=float,
        default=0.1,
        help="seconds between the peer's status polls (Nova has no "
        "long poll; default %(default)s)",
    )
    p.add_argument(
        "--engines",
        choices=tuple(SITTINGS),
        default="single",
        help="single: the machine's RabbitMQ and MariaDB (the default); "
        "cluster: a 3-node RabbitMQ cluster and a 3-node Galera cluster "
        "behind HAProxy, the run's own, stopped after; both: single then "
        "cluster in one sitting, with the ratios (defaults then: 100 "
        "hosts, 300 cycles, concurrency 15, no references)",
    )
    p.add_argument(
        "--idle-seconds",
        type=float,
        default=None,
        help="before the load, measure each process's CPU this long with "
        "no cycle running (default 10 with --engines cluster|both, else 0)",
    )
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument(
        "--save", metavar="PATH", help="also write the JSON result to PATH"
    )
    return p


# --engines: the sittings it runs, in order.
SITTINGS = {
    "single": ("single",),
    "cluster": ("cluster",),
    "both": ("single", "cluster"),
}

# (alone, with a peer, on the clusters): a pair stays well under 30
# minutes here, and so does --engines both (the clusters run slower).
DEFAULTS = {
    "hosts": (100, 50, 100),
    "cycles": (500, 200, 300),
    "concurrency": (20, 10, 15),
}


def parse_args(argv=None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    clustered = args.engines != "single"
    for k, (alone, paired, on_clusters) in DEFAULTS.items():
        if getattr(args, k) is None:
            setattr(
                args,
                k,
                paired if args.peer else on_clusters if clustered else alone,
            )
    if args.refs is None:
        # The references compare Arame with its bus, not with the peer or
        # the other engines, and would lengthen the sitting.
        args.refs = not (args.peer or clustered)
    if args.idle_seconds is None:
        args.idle_seconds = 10.0 if clustered else 0.0
    if clustered and (args.peer or args.private_rabbit or args.refs_only):
        raise SystemExit(
            "--engines cluster|both: not with --peer, --private-rabbit "
            "or --refs-only"
        )
    if args.warmup is None:
        args.warmup = args.concurrency
    if args.peer and (args.refs_only or args.private_rabbit):
        raise SystemExit(
            "--peer runs both on the machine's broker: not with "
            "--refs-only or --private-rabbit"
        )
    if args.peer_poll <= 0:
        raise SystemExit("--peer-poll must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    for k in ("hosts", "hva_procs", "concurrency", "schedulers", "collectors"):
        if getattr(args, k) < 1:
            raise SystemExit(f"--{k.replace('_', '-')} must be at least 1")
    if args.hva_procs > args.hosts:
        raise SystemExit("--hva-procs must not exceed --hosts")
    overall = Deadline(args.max_seconds)
    kinds = SITTINGS[args.engines]
    # With a peer, Arame's half must leave the peer its time; each of
    # two sittings gets half of what is left when it starts.
    shares = 2 if args.peer else 1
    current = [overall]

    def on_term(signum, _frame):
        current[0].cancel()  # the workers stop after their current request
        overall.cancel()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    results, rc = {}, 0
    for i, kind in enumerate(kinds):
        if overall.passed():
            break
        current[0] = Deadline(
            overall.left() / (len(kinds) - i)
            if len(kinds) > 1
            else args.max_seconds / shares
        )
        try:
            results[kind], code = run_sitting(args, current[0], kind)
        except KeyboardInterrupt as e:  # a signal between two phases
            results.setdefault(kind, {})["failure"] = str(e)
            code = 1
        rc = rc or code
    if len(kinds) > 1:
        return finish_both(args, results, rc)
    res = results.get(kinds[0], {})
    if args.peer and not res.get("failure") and not overall.passed():
        res["peer"] = run_peer(args, overall)
        res["side_by_side"] = side_by_side.compare(res)
        if res["peer"].get("failure"):
            rc = 1
    res["loadavg_at_end"] = os.getloadavg()
    report.output(res, args.json, args.save)
    if res.get("peer") and not args.json:
        print_peer(res, args)
    for r in (res.get("load"), (res.get("peer") or {}).get("load")):
        if r and r["success_rate"] < 1.0:
            rc = rc or 2
    return rc


def run_sitting(args, deadline: Deadline, kind: str) -> tuple[dict, int]:
    """One deployment on `kind` engines ("single": the machine's broker,
    or --private-rabbit's, and MariaDB; "cluster": ClusterEngines), its
    references, warm-up and load, torn down whatever happens: (result,
    exit status)."""
    name = f"bench_{secrets.token_hex(4)}"
    state_dir = tempfile.mkdtemp(prefix=f"arame-{name}-", dir="/tmp")
    res = {
        "engines": kind,
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": environment.machine(),
        "versions": environment.versions(),
        "code": environment.code_version(),
        "args": dict(vars(args)),
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
    }
    engines = rabbit = dep = None
    rc = 0
    if args.peer:
        try:
            peer_measure.install(args)
        except Exception as e:
            raise SystemExit(f"{args.peer} peer install: {e}") from e
    try:
        if kind == "cluster":
            engines = cluster_engines.ClusterEngines(name)
            rabbit, mariadb = engines.rabbit, engines.mariadb
            res["cluster"] = engines.describe()
        elif args.private_rabbit:
            rabbit, mariadb = broker.PrivateRabbitMQ(name), infra.MariaDB()
        else:
            rabbit, mariadb = infra.RabbitMQ(), infra.MariaDB()
        if args.private_rabbit:
            log(
                f"starting a private RabbitMQ node {rabbit.node} on port "
                f"{rabbit.port} (nofile {rabbit.nofile}) ..."
            )
        if engines is not None:
            log(
                "starting 3 RabbitMQ nodes (ports "
                + ", ".join(map(str, res["cluster"]["rabbit_nodes"].values()))
                + f") and 3 Galera nodes behind HAProxy on "
                f"{res['cluster']['haproxy_port']}, under {engines.dir} ..."
            )
            t0 = time.perf_counter()
            engines.start()
            res["cluster"]["start_s"] = round(time.perf_counter() - t0, 1)
            log(f"engines up in {res['cluster']['start_s']} s")
        else:
            rabbit.ensure_running()
            mariadb.ensure_running()
        node = rabbit.nodes[0] if engines else getattr(rabbit, "node", None)
        fds = broker.broker_sockets(node)
        res["broker"] = {
            "private": args.private_rabbit,
            "cluster": engines is not None,
            "port": rabbit.port,
            "file_descriptors": fds,
        }
        if not args.refs_only:
            broker.check_room(fds, args)
            conf = deployment.parse_overrides(args.set)
            dep = local.LocalDeployment(
                name,
                state_dir,
                api_port=free_port(),
                conf=conf,
                rabbit=rabbit,
                mariadb=mariadb,
            )
            res["deployment"] = {
                "name": name,
                "api_url": dep.api_url,
                "state_dir": state_dir,
                "vhost": dep.vhost,
                "database": dep.database,
                "conf": conf,
            }
            log(f"deployment {name} on {dep.api_url}, state {state_dir}")
            st = deployment.start_deployment(dep, args, deadline)
            token = st.pop("token")
            res["deployment"]["startup"] = st
            res["deployment"]["daemons"] = {
                n: d.pid for n, d in dep.daemons.items()
            }
            log(
                f"up: API {st['api_ready_s']:.1f} s, {args.hosts} hosts "
                f"{st['hosts_up_s']:.1f} s, RPC queues {st['rpc_ready_s']:.1f} s"
            )
            if engines is not None:
                res["cluster"]["queues"] = engines.queue_members(dep.vhost)
                log(f"queues: {res['cluster']['queues']}")
        if args.refs or args.refs_only:
            log("bus references ...")
            res["references"] = references.measure_references(
                rabbit, f"arame-{name}-ref", state_dir, args, deadline
            )
        if dep is not None:
            image = load.find_image(dep, token)
            wrec = []
            if args.warmup:
                res["warmup"], wrec = load.warm_up(
                    dep, token, image, args, deadline
                )
            if args.refs and args.ref_http:
                tid = next(
                    (r.get("task_id") for r in wrec if r.get("task_id")), None
                )
                log("API request cost ...")
                res["api_cost"] = references.measure_api_cost(
                    dep, token, tid, args.ref_http, deadline
                )
            meter = (
                cluster_engines.EnginesCPUMeter(dep, engines)
                if engines is not None
                else None
            )
            if args.idle_seconds > 0:
                log(f"idle CPU: {args.idle_seconds:g} s with no cycle")
                res["idle_cpu"] = cluster_engines.idle_cpu(
                    meter or CPUMeter(dep), args.idle_seconds
                )
            res.update(
                load.measure_load(dep, token, image, args, deadline, meter)
            )
        res["ratios"] = report.ratios(res.get("load"), res.get("references"))
    except BaseException as e:  # noqa: B902 - report, then tear down
        deadline.cancel()
        res["failure"] = f"{type(e).__name__}: {e}"
        rc = 1
    finally:
        if dep is not None:
            log("tearing down (daemons, vhost, database) ...")
            try:
                res["teardown"] = deployment.teardown(dep)
            except BaseException as e:  # noqa: B902 - still drop everything
                res["teardown_error"] = f"{type(e).__name__}: {e}"
                rc = 1
                try:
                    dep.down(drop=True)
                except Exception:
                    pass
            res["log_errors"] = deployment.log_errors(dep.log_dir)
        if isinstance(rabbit, broker.PrivateRabbitMQ):
            log(f"stopping the private RabbitMQ node {rabbit.node} ...")
            try:
                rabbit.stop()
            except Exception as e:
                res["teardown_error"] = f"{type(e).__name__}: {e}"
                rc = 1
        if engines is not None:
            log("stopping the clustered engines ...")
            errors = engines.stop()
            if errors:
                res["teardown_error"] = "; ".join(errors)
                rc = 1
        if args.rm_state:
            shutil.rmtree(state_dir, ignore_errors=True)
    load_res = res.get("load")
    if load_res and load_res["success_rate"] < 1.0:
        rc = rc or 2
    return res, rc


def finish_both(args, results: dict, rc: int) -> int:
    """Both sittings' reports, then the comparison and its ratios."""
    out = {
        "engines": args.engines,
        "single": results.get("single"),
        "cluster": results.get("cluster"),
        "comparison": engines_compare.compare(
            results.get("single"), results.get("cluster")
        ),
        "loadavg_at_end": os.getloadavg(),
    }
    if args.save:
        with open(args.save, "w") as f:
            json.dump(out, f, indent=2, default=str)
    if args.json:
        json.dump(out, sys.stdout, indent=2, default=str)
        print()
        return rc
    for kind in ("single", "cluster"):
        if results.get(kind):
            print(f"==== {kind} engines ====")
            report.print_report(results[kind])
            print()
    for line in engines_compare.format_comparison(
        out["comparison"], vars(args)
    ):
        print(line)
    first = (results.get("single") or {}).get("machine") or {}
    print(
        "load average (1, 5, 15 min) at start "
        + " ".join(f"{x:.2f}" for x in first.get("loadavg_at_start") or ())
        + ", at end "
        + " ".join(f"{x:.2f}" for x in out["loadavg_at_end"])
    )
    return rc


def run_peer(args, overall: Deadline) -> dict:
    """The peer's measurement; a failure is reported, not raised."""
    try:
        return peer_measure.measure(args, overall)
    except BaseException as e:  # noqa: B902 - report it beside Arame's
        return {"name": args.peer, "failure": f"{type(e).__name__}: {e}"}


def print_peer(res: dict, args) -> None:
    print()
    for line in side_by_side.format_peer(res["peer"]):
        print(line)
    print()
    for line in side_by_side.format_comparison(
        res["side_by_side"], args.peer, vars(args), res["peer"]
    ):
        print(line)
    start = res["machine"].get("loadavg_at_start") or ()
    print(
        "load average (1, 5, 15 min) at start "
        + " ".join(f"{x:.2f}" for x in start)
        + ", at end "
        + " ".join(f"{x:.2f}" for x in res["loadavg_at_end"])
    )


if __name__ == "__main__":
    sys.exit(main())
