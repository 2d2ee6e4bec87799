"""Wait for a quiet machine before a measurement.

Other people's test runs share the two cores; a figure taken while they
run measures them too. So a run waits until the 1-minute load average
has stayed below a threshold for a while, up to a deadline, and records
whether it got there (a run that never saw quiet still runs, and says so).

    python3 bench/lib/quiet.py                 # load < 1.0 for 30 s, 20 min at most
    python3 bench/lib/quiet.py --below 1.5 --hold 60 --timeout 600
"""

import argparse
import os
import sys
import time


def load1() -> float:
    return os.getloadavg()[0]


def wait_quiet(
    below: float = 1.0,
    hold: float = 30.0,
    timeout: float = 1200.0,
    interval: float = 2.0,
    log=None,
) -> dict:
    """Poll the 1-minute load average until it has stayed below `below`
    for `hold` seconds, or `timeout` passes. Returns {"quiet": bool,
    "waited_s", "load1"} (load1: the last reading)."""
    t0 = time.monotonic()
    end = t0 + timeout
    since = None
    last_log = 0.0
    while True:
        now = time.monotonic()
        la = load1()
        if la < below:
            since = since if since is not None else now
            if now - since >= hold:
                return {"quiet": True, "waited_s": now - t0, "load1": la}
        else:
            since = None
        if now >= end:
            return {"quiet": False, "waited_s": now - t0, "load1": la}
        if log is not None and now - last_log >= 60:
            last_log = now
            log(f"waiting for a quiet machine: load average {la:.2f}")
        time.sleep(min(interval, max(0.0, end - now)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--below", type=float, default=1.0)
    p.add_argument("--hold", type=float, default=30.0)
    p.add_argument("--timeout", type=float, default=1200.0)
    args = p.parse_args(argv)

    def log(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr)

    r = wait_quiet(args.below, args.hold, args.timeout, log=log)
    state = "quiet" if r["quiet"] else "NOT quiet (deadline passed)"
    print(
        f"{time.strftime('%H:%M:%S')} {state}: load average "
        f"{r['load1']:.2f} after {r['waited_s']:.0f} s",
        flush=True,
    )
    return 0 if r["quiet"] else 3


if __name__ == "__main__":
    sys.exit(main())
