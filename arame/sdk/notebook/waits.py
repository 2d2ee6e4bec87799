"""Waiting for a unit's work: a parent task followed to its end, or a
unit's state followed until it settles, with a progress bar.

A wait only reads: interrupting it (KeyboardInterrupt, the notebook's stop
button) or letting it time out leaves the work going on server-side, and
any later wait, from any ArameSDK, picks it up by the unit's name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from arame.sdk.errors import ConnectionFailed
from arame.sdk.notebook.errors import NodeFailure, WaitTimeout
from arame.sdk.notebook.progress import Bar

FINAL_TASK = frozenset({"done", "failed"})
# A unit in one of these has nothing in progress (VCP's "applied").
SETTLED_UNIT = frozenset({"running", "error", "power_off"})
_NODE_DONE = frozenset({"running", "stopped", "error"})
_NODE_LEAVING = frozenset({"shuttingdown", "terminated"})
NODE_STEP = "node "
# task_tree's message for a failed node: "<action> failed at <step>: <why>"
_FAILED_AT = re.compile(r"^\S+ failed at (?P<step>[^:]+): (?P<reason>.*)$")


@dataclass
class Poller:
    """How waits pass time; tests give a fake clock."""

    interval: float = 1.0
    progress: bool = True
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def run(
        self,
        what: str,
        total: int,
        poll: Callable[[], tuple[bool, int, int, str | None, Any]],
        timeout: float | None,
    ) -> Any:
        """Call ``poll`` -> (finished, done, total, step, result) until
        finished; its result then. WaitTimeout after ``timeout`` s."""
        deadline = None if timeout is None else self.clock() + timeout
        bar = Bar(what, total, self.progress)
        state: str | None = None
        try:
            while True:
                try:
                    finished, done, total, state, result = poll()
                except ConnectionFailed:
                    # A dropped connection in a long wait is not the end
                    # of the work: try again until the deadline.
                    finished = False
                else:
                    bar.show(done, total, state)
                    if finished:
                        return result
                left = None if deadline is None else deadline - self.clock()
                if left is not None and left <= 0:
                    raise WaitTimeout(what, timeout or 0, state)
                self.sleep(
                    self.interval if left is None else min(self.interval, left)
                )
        finally:
            bar.close()


def task_progress(
    task: Mapping[str, Any], total: int
) -> tuple[bool, int, int, str | None]:
    """(finished, nodes done, total, step) of a parent task."""
    node_events = [
        e for e in task.get("events") or () if e["step"].startswith(NODE_STEP)
    ]
    total = max(total, len(node_events))
    step: str | None
    if node_events:
        last = node_events[-1]
        step = f"{last['step']} {last['status']}"
    else:
        step = task.get("step") or task.get("status")
    return task["status"] in FINAL_TASK, len(node_events), total, step


def unit_progress(unit: Mapping[str, Any]) -> tuple[bool, int, int, str]:
    """(settled, nodes done, total, a count of nodes per state)."""
    nodes = [
        n for n in unit.get("nodes") or () if n["status"] not in _NODE_LEAVING
    ]
    done = sum(n["status"] in _NODE_DONE for n in nodes)
    counts: dict[str, int] = {}
    for n in nodes:
        counts[n["status"]] = counts.get(n["status"], 0) + 1
    step = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    return (
        unit["state"] in SETTLED_UNIT,
        done,
        len(nodes),
        step or unit["state"],
    )


def task_failures(task: Mapping[str, Any]) -> list[NodeFailure]:
    """Each failed node of a parent task: where it failed and why."""
    out = []
    for e in task.get("events") or ():
        if not e["step"].startswith(NODE_STEP) or e["status"] != "failed":
            continue
        message = e.get("message") or "failed"
        match = _FAILED_AT.match(message)
        out.append(
            NodeFailure(
                node=e["step"][len(NODE_STEP) :],
                step=match["step"] if match else None,
                reason=match["reason"] if match else message,
                host=e.get("host"),
            )
        )
    return out


def unit_failures(
    unit: Mapping[str, Any],
    known: list[NodeFailure] = (),  # type: ignore[assignment]
) -> list[NodeFailure]:
    """The failures the task told (with their steps), then the unit's
    other error nodes (a node that failed outside this task)."""
    seen = {f.node for f in known}
    hosts = {n["name"]: n.get("host") for n in unit.get("nodes") or ()}
    extra = [
        NodeFailure(
            node=e.get("name") or e["node_id"],
            step=None,
            reason=e.get("reason") or "in error",
            host=hosts.get(e.get("name")),
        )
        for e in unit.get("errors") or ()
        if (e.get("name") or e["node_id"]) not in seen
    ]
    return [*known, *extra]
