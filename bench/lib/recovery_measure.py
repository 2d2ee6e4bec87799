"""What one fault cost, from the load's records: which requests it
touched, how long until the last of them was final, the throughput in
the window after the kill against the baseline, and the errors users saw;
and the machine's CPU over a window (the run shares two cores).
"""

import os
import time

from .recovery_load import Cycle, Request
from .resources import machine_cpu, proc_cpu_seconds

ERRORS = ("failed", "refused", "unanswered")


def rate(cycles: list[Cycle], start: float, end: float) -> float:
    """Successful cycles ended in [start, end), per second."""
    done = sum(1 for c in cycles if c.ok and start <= c.ended_at < end)
    return done / max(1e-9, end - start)


def affected(requests: list[Request], fault) -> list[Request]:
    """Sent before the victim was back, and not final when it was
    killed: in flight at the kill, or sent during the outage."""
    back = fault.back_at or fault.killed_at
    return [
        r
        for r in requests
        if r.sent_at < back
        and (r.final_at is None or r.final_at > fault.killed_at)
    ]


def settled(requests: list[Request], fault) -> bool:
    """Every affected request has ended, final or not."""
    return all(r.outcome is not None for r in affected(requests, fault))


def measure(
    fault,
    requests: list[Request],
    cycles: list[Cycle],
    baseline: float,
    window: float,
) -> dict:
    kill = fault.killed_at
    hit = affected(requests, fault)
    open_ = [r for r in hit if r.final_at is None]
    last = max(hit, key=lambda r: r.final_at or float("inf"), default=None)
    # What users met in the fault's time: the affected requests and the
    # ones sent in the window after the kill.
    seen = {id(r): r for r in hit}
    seen.update(
        {id(r): r for r in requests if kill <= r.sent_at < kill + window}
    )
    errors = [r for r in seen.values() if r.outcome in ERRORS]
    got = rate(cycles, kill, kill + window)
    if not hit:
        recovery = 0.0
    elif open_:
        recovery = None  # not final yet: no recovery to give
    else:
        recovery = round(last.final_at - kill, 1)
    return {
        "fault": str(fault),
        "back_s": round((fault.back_at or kill) - kill, 1),
        "affected": len(hit),
        "affected_kinds": _count(r.kind for r in hit),
        "recovery_s": recovery,
        "not_final": [_show(r, kill) for r in open_],
        "slowest": _show(last, kill) if last is not None else None,
        "cycles_per_s": round(got, 3),
        "dip_pct": round(100 * (1 - got / baseline), 1) if baseline else None,
        "errors": [_show(r, kill) for r in errors],
        "retries": sum(r.transient for r in seen.values()),
    }


def _count(items) -> dict:
    out: dict = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def _show(r: Request, kill: float) -> dict:
    def rel(t):
        return None if t is None else round(t - kill, 1)

    return {
        "kind": r.kind,
        "resource": r.resource_id,
        "task": r.task_id,
        "sent": rel(r.sent_at),
        "accepted": rel(r.accepted_at),
        "final": rel(r.final_at),
        "outcome": r.outcome,
        "error": r.error,
    }


class CPUWindow:
    """The machine's CPU over a window, and how much of it the run's own
    processes took (the rest is other people's work on the machine). A
    process that died in the window loses what it used before; one born
    in it counts whole."""

    def __init__(self, pids):
        self._pids = pids  # () -> {pid: name}, read at each end
        self.t0 = time.monotonic()
        self.m0 = machine_cpu()
        self.c0 = {p: proc_cpu_seconds(p) for p in pids()}

    def end(self) -> dict:
        wall = max(1e-9, time.monotonic() - self.t0)
        busy1, total1 = machine_cpu()
        cores = os.cpu_count() or 1
        busy = (busy1 - self.m0[0]) / max(1, total1 - self.m0[1]) * cores
        ours = 0.0
        for p in self._pids():
            c1 = proc_cpu_seconds(p)
            if c1 is not None:
                ours += c1 - (self.c0.get(p) or 0.0)
        ours /= wall
        return {
            "busy_cores": round(busy, 2),
            "run_cores": round(ours, 2),
            "other_cores": round(max(0.0, busy - ours), 2),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        }
