"""What must hold after the faults (issue 17): every accepted request final
within FINAL_WITHIN seconds of the last fault, no task stranded, deletes
converged, reasons a user can act on, host usage, quotas and the usage
ledger exact, and the agents holding exactly what the records say.

Each check returns the problems it found as sentences (empty: it holds),
so that a test reports all of them at once.
"""

import dataclasses
import re
import time
from collections import Counter

import sqlalchemy as sa
from sqlalchemy import orm

from tests.chaos import fake_state
from tests.helpers.waiting import wait_until

FINAL_WITHIN = 60  # seconds from the last fault to every request final
SETTLE = 20  # the usage ledger and the collector's repairs, once final

TASK_FINAL = {"done", "failed"}
FINAL = {
    "instance": {"running", "stopped", "terminated", "error"},
    "volume": {"available", "attached", "deleted", "error"},
    "snapshot": {"available", "deleted", "error"},
}
GONE = {"instance": "terminated", "volume": "deleted", "snapshot": "deleted"}
# A caller's timeout is no reason a user can act on: the issue's "no
# answer from vm before the deadline" after a restart is the bug itself.
NOT_ACTIONABLE = ("no answer from", "deadline passed", "before the deadline")


@dataclasses.dataclass
class Records:
    tasks: dict[str, dict]
    instances: dict[str, dict]
    volumes: dict[str, dict]
    snapshots: dict[str, dict]
    ports: list[tuple[str, str]]
    # Seconds from the last kill to everything final.
    final_after: float | None = None

    def of(self, rtype: str) -> dict[str, dict]:
        return {
            "instance": self.instances,
            "volume": self.volumes,
            "snapshot": self.snapshots,
        }[rtype]


def read(dep) -> Records:
    def by_id(table):
        # SELECT *: columns added by later migrations come along.
        return {
            r["id"]: dict(r)
            for r in (
                row._mapping for row in dep.rows(f"SELECT * FROM {table}")
            )
        }

    return Records(
        tasks=by_id("tasks"),
        instances=by_id("instances"),
        volumes=by_id("volumes"),
        snapshots=by_id("snapshots"),
        ports=[
            (r[0], r[1])
            for r in dep.rows("SELECT instance_id, mac_address FROM ports")
        ],
    )


# -- finality -------------------------------------------------------------------
def not_final(rec: Records) -> list[str]:
    """One line per kind of thing not final, with a count: the shape of
    what is stuck, not a list of ids."""
    stuck: Counter = Counter()
    for t in rec.tasks.values():
        if t["status"] not in TASK_FINAL:
            owner = t.get("owner")
            stuck[
                f"task {t['resource_type']} {t['action']} {t['status']} "
                f"at step {t['step'] or '-'}"
                + (f" (owner {owner.split(':')[0]})" if owner else "")
            ] += 1
    for rtype in FINAL:
        for r in rec.of(rtype).values():
            if r["status"] not in FINAL[rtype]:
                stuck[f"{rtype} {r['status']}"] += 1
    return [f"{n} {what}" for what, n in sorted(stuck.items())]


def wait_final(dep, since: float) -> tuple[Records, list[str]]:
    """Wait until everything in the records is final, at most until
    FINAL_WITHIN seconds after `since` (time.monotonic()). -> the records
    then, and the problems (what is still not final)."""
    left: list[str] = []
    rec = None

    def final():
        nonlocal rec, left
        rec = read(dep)
        left = not_final(rec)
        return not left

    try:
        wait_until(
            final,
            max(1.0, since + FINAL_WITHIN - time.monotonic()),
            "every request final",
            interval=1.0,
            ignore=(sa.exc.OperationalError,),
        )
        return rec, []
    except AssertionError:
        rec = rec or read(dep)
        return rec, [
            f"not final {FINAL_WITHIN} s after the last fault: "
            + "; ".join(left)
        ]


# -- the accepted requests' outcomes -------------------------------------------
def outcomes(rec: Records, accepted) -> list[str]:
    out = []
    for a in accepted:
        r = rec.of(a.resource_type).get(a.resource_id)
        task = rec.tasks.get(a.task_id) if a.task_id else None
        if r is None:
            out.append(f"{a}: no record of {a.resource_id}")
            continue
        if a.task_id and task is None:
            out.append(f"{a}: no record of its task")
        if task and task["status"] == "failed":
            msg = task.get("error_message") or ""
            if not msg:
                out.append(f"{a}: task failed without a message")
            elif any(s in msg for s in NOT_ACTIONABLE):
                out.append(
                    f"{a}: task failed at {task.get('error_step')}: {msg}"
                )
        if a.kind.endswith(".delete") and r["status"] != GONE[a.resource_type]:
            out.append(
                f"{a}: delete ended {r['status']} "
                f"({r.get('status_reason') or 'no reason'})"
            )
    for rtype in FINAL:
        for rid, r in sorted(rec.of(rtype).items()):
            if r["status"] != "error":
                continue
            reason = r.get("status_reason") or ""
            if not reason:
                out.append(f"{rtype} {rid}: error without a reason")
            elif any(s in reason for s in NOT_ACTIONABLE):
                out.append(f"{rtype} {rid}: error: {reason}")
    return out


def errors(rec: Records) -> list[str]:
    """Resources that ended in error, with why (shown, not failed on:
    errors with a reason a user can act on are allowed)."""
    return [
        f"{rtype} {rid}: {r.get('status_reason')}"
        for rtype in FINAL
        for rid, r in sorted(rec.of(rtype).items())
        if r["status"] == "error"
    ]


# -- books and agents -----------------------------------------------------------
def invariants(dep) -> list[str]:
    """arame.collector.invariants.check: host usage, quota holds and the
    usage ledger against the live resources."""
    try:
        from arame.collector import invariants
    except ImportError as e:
        return [
            "arame.collector.invariants is missing (issue 17): host usage, "
            f"quotas and the usage ledger go unchecked ({e})"
        ]
    eng = dep.engine()
    try:
        with orm.Session(eng) as s:
            return [f"invariant: {d}" for d in invariants.check(s)]
    finally:
        eng.dispose()


def ledger(dep, rec: Records) -> list[str]:
    """One `open` per instance or volume that is live, none closed; one
    `close` per terminated one that was opened; never two of either."""
    counts: Counter = Counter()
    for rid, event, n in dep.rows(
        "SELECT resource_id, event, COUNT(*) FROM usage_records "
        "GROUP BY resource_id, event"
    ):
        counts[(rid, event)] = n
    out = []
    for (rid, event), n in sorted(counts.items()):
        if n > 1:
            out.append(f"usage: {n} {event} records for {rid}")
    for rtype, live in (
        ("instance", {"running", "stopped"}),
        ("volume", {"available", "attached"}),
    ):
        for rid, r in sorted(rec.of(rtype).items()):
            opened, closed = counts[(rid, "open")], counts[(rid, "close")]
            if rtype == "volume" and r.get("root_of"):
                continue  # part of its instance's flavor, not billed alone
            if r["status"] in live and (opened, closed) != (1, 0):
                out.append(
                    f"usage: {rtype} {rid} is {r['status']} with "
                    f"{opened} open and {closed} close"
                )
            if r["status"] == GONE[rtype] and closed != opened:
                out.append(
                    f"usage: {rtype} {rid} is {r['status']} with "
                    f"{opened} open and {closed} close"
                )
    return out


def agents(dep, rec: Records) -> list[str]:
    return (
        fake_state.check_hva(
            fake_state.load(dep.state_file("hva")), rec.instances
        )
        + fake_state.check_sta(
            fake_state.load(dep.state_file("sta")), rec.volumes, rec.snapshots
        )
        + fake_state.check_nsa(
            fake_state.load(dep.state_file("nsa")), rec.instances, rec.ports
        )
    )


RESOURCE_ID = re.compile(r"\b(?:i|vol|snap)-[a-z0-9]{8}\b")


def history(dep, text: str) -> list[str]:
    """The tasks of every instance, volume or snapshot `text` names, each
    with its steps: how it came to be left over."""
    ids = sorted(set(RESOURCE_ID.findall(text)))
    if not ids:
        return []
    rows = dep.rows(
        "SELECT t.resource_id, t.id, t.action, t.status, t.error_message, "
        "e.step, e.status FROM tasks t LEFT JOIN task_events e "
        "ON e.task_id = t.id WHERE t.resource_id IN ("
        # Literal: the pattern leaves only [a-z0-9-] in them.
        + ", ".join(f"'{i}'" for i in ids)
        + ") ORDER BY t.created_at, t.id, e.id"
    )
    tasks: dict = {}
    for rid, tid, action, status, error, step, step_status in rows:
        t = tasks.setdefault(
            (rid, tid), [f"{action} {status}", error or "", []]
        )
        if step:
            t[2].append(f"{step} {step_status}")
    return [
        f"  {rid} {head}{f' ({error})' if error else ''}: {', '.join(steps)}"
        for (rid, _), (head, error, steps) in tasks.items()
    ]


def settled(dep) -> list[str]:
    """The books and the agents, given SETTLE seconds to agree (usage
    messages are asynchronous, the collector repairs periodically)."""
    found: list[str] = []

    def clean():
        nonlocal found
        rec = read(dep)
        found = invariants(dep) + agents(dep, rec) + ledger(dep, rec)
        return not found

    try:
        wait_until(clean, SETTLE, "books and agents to agree", interval=2.0)
    except AssertionError:
        pass
    return found + history(dep, "\n".join(found))


def everything(dep, burst, faults) -> tuple[list[str], Records]:
    """Every check after a burst and its faults: the problems found, and
    the records once final (or at the deadline)."""
    problems = [f"harness: {c}" for c in burst.crashed]
    problems += [f"API answered {e}" for e in burst.server_errors]
    # From the last fault, or the last answer if the burst went on after
    # it (its requests need their few seconds too).
    since = max(
        faults.last_back_at if faults.log else 0,
        burst.finished_at or time.monotonic(),
    )
    rec, late = wait_final(dep, since)
    problems += late
    if not late and faults.log:
        rec.final_after = time.monotonic() - faults.last_killed_at
    problems += outcomes(rec, burst.accepted)
    problems += settled(dep)
    return problems, rec


def burst_tail(burst, faults) -> str:
    if not faults.log or burst.finished_at is None:
        return "with no fault"
    return f"{burst.finished_at - faults.last_killed_at:+.1f} s from it"


def report(problems: list[str], burst, faults, rec: Records) -> str:
    """The failure message: what was done, what the burst got, what is
    wrong, and (for the reader) what ended in error and why."""
    ended = Counter(
        f"{rtype} {r['status']}"
        for rtype in FINAL
        for r in rec.of(rtype).values()
    )
    lines = [
        f"{len(problems)} problem(s) after: {faults}",
        f"burst: {burst.summary()}",
        "everything final "
        + (
            f"{rec.final_after:.1f} s after the last kill"
            if rec.final_after is not None
            else "in time"
            if not any(p.startswith("not final") for p in problems)
            else f"not within {FINAL_WITHIN} s"
        )
        + f" (the burst's last answer came {burst_tail(burst, faults)})",
        "records: " + ", ".join(f"{k} {v}" for k, v in sorted(ended.items())),
    ]
    lines += [f"- {p}" for p in problems]
    err = errors(rec)
    if err:
        lines.append(f"ended in error ({len(err)}):")
        lines += [f"  {e}" for e in err[:30]]
    return "\n".join(lines)
