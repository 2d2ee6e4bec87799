#!/usr/bin/env python3
"""Unit create and cleanup: time from `POST /v1/units` (N nodes) to its
parent task `done` and to every node `running`, and from `DELETE
/v1/unit_groups/{id}` to its task `done`; against a reference measured in
the same run: the same N nodes as N concurrent `POST /v1/instances` (same
flavor and image) waited to `running`, then N concurrent DELETEs waited to
`terminated`.

    python3 bench/units.py                                  # fake hva, 1,5,20 nodes, 3 repeats
    python3 bench/units.py --spawn-delay 3                  # a fake spawn that takes 3 s
    python3 bench/units.py --driver libvirt --sizes 1,5 --repeat 1
    python3 bench/units.py --url http://127.0.0.1:9001 --password ... \\
        --console-dir /var/lib/arame/instances             # tools/single-host

Without --url the bench starts a deployment of its own: with the fake
hypervisor as bench/control_plane.py starts it (lib/deployment.py: own
vhost, database, API port and /tmp state directory; `[fake_hva]
spawn_delay` --spawn-delay, 0 by default: the control plane alone), or
with --driver libvirt real guests as bench/vm_boot.py starts them (QEMU in
the lab namespace, state under --root); no quota either way. It is torn
down whatever happens. With real guests it also times each guest to the
test image's `booted` line on its console (--console-dir for an
endpoint's guests).

Trials alternate: a unit then its reference, then the reference first,
so neither side always runs on a warmer deployment. One untimed unit and
one untimed instance warm up first (on real guests: the image cache).
"""

import argparse
import datetime as dt
import os
import secrets
import shutil
import signal
import sys

# bench/lib: this script's directory is first on sys.path.
from lib import environment, quiet, unit_report
from lib.run import Deadline, log
from lib.unit_load import Ctx, poll_cost, reference_trial, unit_trial
from lib.unit_targets import make_target

from arame.deploy import infra


def sizes(value: str) -> list[int]:
    out = [int(x) for x in value.split(",") if x.strip()]
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError("sizes: positive integers, a,b,c")
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--sizes", type=sizes, default=[1, 5, 20])
    p.add_argument("--repeat", type=int, default=3, help="trials per size")
    p.add_argument("--driver", choices=["fake", "libvirt"], default="fake")
    p.add_argument(
        "--spawn-delay",
        type=float,
        default=0.0,
        help="[fake_hva] spawn_delay, s (fake driver; default 0)",
    )
    p.add_argument("--hosts", type=int, default=10, help="fake hosts")
    p.add_argument("--hva-procs", type=int, default=1)
    p.add_argument("--schedulers", type=int, default=2)
    p.add_argument("--collectors", type=int, default=1)
    p.add_argument(
        "--root",
        default="/var/tmp/arame-bench",
        help="libvirt: where guests' files go (as bench/vm_boot.py)",
    )
    p.add_argument("--url", help="an Arame endpoint that runs already")
    p.add_argument("--username", default="admin")
    p.add_argument("--password", default=os.environ.get("ARAME_PASSWORD"))
    p.add_argument(
        "--console-dir",
        help="with --url: the hypervisor's instances directory, to time "
        "guests to their booted line",
    )
    p.add_argument("--flavor", default="small")
    p.add_argument("--image", default="arame-test")
    p.add_argument(
        "--poll",
        type=float,
        default=None,
        help="seconds between polls (default 0.05; libvirt 0.2)",
    )
    p.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="units only",
    )
    p.add_argument(
        "--trial-timeout",
        type=float,
        default=None,
        help="one create or cleanup (default 120 s; libvirt 1200 s)",
    )
    p.add_argument(
        "--poll-cost",
        type=int,
        default=200,
        metavar="N",
        help="after the trials, N sequential requests of each side's polls "
        "over the largest size: latency and API CPU each (0: skip)",
    )
    p.add_argument("--startup-timeout", type=float, default=600.0)
    p.add_argument("--max-seconds", type=float, default=3600.0)
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to this long for the load average to stay "
        "below 1.0 for 30 s (0: do not wait)",
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
    p.add_argument("--save", metavar="PATH", help="also write the JSON")
    return p


def plan(args) -> list[tuple[str, int]]:
    """(kind, size) in run order: per size and repeat the unit and the
    reference, their order swapped every other time."""
    out = []
    k = 0
    for n in args.sizes:
        for _ in range(args.repeat):
            pair = [("unit", n)] + (
                [("reference", n)] if args.reference else []
            )
            out += pair if k % 2 == 0 else pair[::-1]
            k += 1
    return out


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    real = args.driver == "libvirt" or args.console_dir
    if args.poll is None:
        args.poll = 0.2 if real else 0.05
    if args.trial_timeout is None:
        args.trial_timeout = 1200.0 if real else 120.0
    if args.url and not args.password:
        raise SystemExit("--url needs --password (or ARAME_PASSWORD)")
    deadline = Deadline(args.max_seconds)

    def on_term(signum, _frame):
        deadline.cancel()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    res = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": environment.machine(),
        "code": environment.code_version(),
        "args": {k: v for k, v in vars(args).items() if k != "password"},
        "command": " ".join(
            [os.path.basename(sys.executable)]
            + [a if a != args.password else "***" for a in sys.argv]
        ),
    }
    if args.wait_quiet:
        res["quiet"] = quiet.wait_quiet(timeout=args.wait_quiet, log=log)
        log(f"load average {res['quiet']['load1']:.2f}")
    name = f"bench_{secrets.token_hex(4)}"
    target = ctx = None
    rc = 0
    trials = res["trials"] = []
    try:
        rabbit, mariadb = infra.RabbitMQ(), infra.MariaDB()
        if not args.url:
            rabbit.ensure_running()
            mariadb.ensure_running()
        target = make_target(args, name, rabbit, mariadb)
        res["target"] = target.info
        log(f"starting ({target.info['driver']}) ...")
        target.up(deadline)
        ctx = Ctx(target, args, deadline)
        log("warm-up: a unit of 1 and one instance, untimed ...")
        for t in (unit_trial(ctx, 1, "warm"), reference_trial(ctx, 1, "warm")):
            if not t["ok"]:
                raise RuntimeError(f"warm-up {t['kind']}: {t.get('error')}")
        for i, (kind, n) in enumerate(plan(args)):
            if deadline.passed():
                break
            tag = f"{i}{secrets.token_hex(2)}"
            run = unit_trial if kind == "unit" else reference_trial
            t = run(ctx, n, tag)
            trials.append(t)
            log(
                f"{kind} of {n}: "
                + (
                    f"running {t['running_s']:.3f} s, cleanup "
                    f"{t['cleanup_s']:.3f} s"
                    if t["ok"]
                    else f"FAILED {t.get('error')}"
                )
            )
        res["summary"] = unit_report.summarise(trials, args.sizes)
        if args.poll_cost and not deadline.passed():
            log("what one poll costs ...")
            try:
                res["poll_cost"] = poll_cost(
                    ctx, max(args.sizes), args.poll_cost, target.api_pid()
                )
            except Exception as e:  # noqa: BLE001 - the trials still count
                res["poll_cost"] = {"error": f"{type(e).__name__}: {e}"}
    except BaseException as e:  # noqa: B902 - report, then tear down
        deadline.cancel()
        res["failure"] = f"{type(e).__name__}: {e}"
        rc = 1
        if trials:
            res["summary"] = unit_report.summarise(trials, args.sizes)
    finally:
        if ctx is not None:
            ctx.close()
        if target is not None:
            log("tearing down ...")
            try:
                res.update(target.down())
            except BaseException as e:  # noqa: B902 - report it
                res["teardown_error"] = f"{type(e).__name__}: {e}"
                rc = 1
            sd = target.info.get("state_dir")
            if args.rm_state and sd and target.info["driver"] != "endpoint":
                shutil.rmtree(sd, ignore_errors=True)
    unit_report.output(res, args.json, args.save)
    if any(not t["ok"] for t in trials):
        rc = rc or 2
    return rc


if __name__ == "__main__":
    sys.exit(main())
