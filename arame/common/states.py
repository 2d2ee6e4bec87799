"""State machines as tables: every legal transition of every resource.

Code asks the table (`machine.check(src, dst)`) rather than testing states
inline, and database updates use `machine.sources(dst)` as their WHERE clause so
that a transition that lost a race simply does not happen.
"""

from typing import NamedTuple

from arame.common import exceptions

ANY = "*"


class StateMachine:
    def __init__(
        self,
        name: str,
        states: list[str],
        transitions: list[tuple],
        final: set[str],
        initial: str,
    ):
        self.name = name
        self.states = tuple(states)
        self.final = frozenset(final)
        self.initial = initial
        self._edges: dict[str, set[str]] = {s: set() for s in states}
        for src, dst in transitions:
            assert dst in self._edges, dst
            sources = (
                [s for s in states if s not in self.final]
                if src == ANY
                else [src]
            )
            for s in sources:
                self._edges[s].add(dst)

    def is_legal(self, src: str, dst: str) -> bool:
        return dst in self._edges.get(src, ())

    def check(self, src: str, dst: str) -> None:
        if not self.is_legal(src, dst):
            raise exceptions.InvalidTransition(
                f"{self.name} cannot go from {src} to {dst}", src=src, dst=dst
            )

    def sources(self, dst: str) -> tuple[str, ...]:
        """Every state from which dst may be reached."""
        return tuple(s for s, targets in self._edges.items() if dst in targets)

    def targets(self, src: str) -> frozenset[str]:
        return frozenset(self._edges.get(src, ()))


INSTANCE = StateMachine(
    "instance",
    [
        "pending",
        "scheduling",
        "starting",
        "running",
        "stopping",
        "stopped",
        "rebooting",
        "shuttingdown",
        "terminated",
        "error",
        "evacuating",
    ],
    [
        ("pending", "scheduling"),
        ("scheduling", "starting"),
        ("starting", "running"),
        ("running", "stopping"),
        ("stopping", "stopped"),
        ("stopping", "running"),  # the guest ignored the stop
        ("stopped", "starting"),
        ("running", "rebooting"),
        ("rebooting", "running"),
        ("running", "stopped"),  # the hypervisor saw it die, no HA
        ("stopped", "running"),  # HA restart, or powered on behind us
        # Rebuilt on another host, its own being down and fenced.
        ("running", "evacuating"),
        ("stopped", "evacuating"),
        ("error", "evacuating"),
        ("evacuating", "running"),
        ("evacuating", "stopped"),
        (ANY, "shuttingdown"),
        ("shuttingdown", "terminated"),
        (ANY, "error"),
    ],
    final={"terminated"},
    initial="pending",
)

# Instances in these states are being changed by a flow; actions wait.
INSTANCE_BUSY = frozenset(
    {
        "pending",
        "scheduling",
        "starting",
        "stopping",
        "rebooting",
        "shuttingdown",
        "evacuating",
    }
)


class InstanceTask(NamedTuple):
    """What one kind of instance task does to the instance's status."""

    src: tuple[str, ...]  # where the API may start it from (409 otherwise)
    busy: tuple[str, ...]  # held while it runs: a failure, or the reaper,
    # moves the instance to error only from these
    final: str  # where it lands when it succeeds


# One table read by the API (src -> busy), the flows (busy -> final) and the
# reaper (busy -> error).
INSTANCE_TASKS = {
    "create": InstanceTask(
        (), ("pending", "scheduling", "starting"), "running"
    ),
    "delete": InstanceTask((), ("shuttingdown",), "terminated"),
    "start": InstanceTask(("stopped",), ("starting",), "running"),
    "stop": InstanceTask(("running",), ("stopping",), "stopped"),
    "reboot": InstanceTask(("running",), ("rebooting",), "running"),
    "evacuate": InstanceTask(
        ("running", "stopped", "error"), ("evacuating",), "running"
    ),
}
assert all(
    INSTANCE.is_legal(s, "error") and INSTANCE.is_legal(s, t.final)
    for t in INSTANCE_TASKS.values()
    for s in t.busy[-1:]
)
assert all(
    INSTANCE.is_legal(s, "error")
    for t in INSTANCE_TASKS.values()
    for s in t.busy
)

TASK = StateMachine(
    "task",
    ["queued", "running", "done", "failed"],
    [("queued", "running"), ("running", "done"), (ANY, "failed")],
    final={"done", "failed"},
    initial="queued",
)

VOLUME = StateMachine(
    "volume",
    [
        "pending",
        "creating",
        "available",
        "attaching",
        "attached",
        "detaching",
        "deleting",
        "deleted",
        "error",
    ],
    [
        ("pending", "creating"),
        ("creating", "available"),
        ("available", "attaching"),
        ("attaching", "attached"),
        ("attaching", "available"),
        ("attached", "detaching"),
        ("detaching", "available"),
        ("detaching", "attached"),
        ("attached", "available"),  # its instance was deleted
        ("available", "deleting"),
        ("error", "deleting"),
        ("pending", "deleting"),
        ("deleting", "deleted"),
        (ANY, "error"),
    ],
    final={"deleted"},
    initial="pending",
)

IMAGE = StateMachine(
    "image",
    ["pending", "uploading", "available", "deleting", "deleted", "error"],
    [
        ("pending", "uploading"),
        ("uploading", "available"),
        ("uploading", "pending"),
        ("pending", "available"),
        ("pending", "deleting"),
        # An upload the API abandoned (past its stale-upload time).
        ("uploading", "deleting"),
        ("available", "deleting"),
        ("error", "deleting"),
        ("deleting", "deleted"),
        (ANY, "error"),
    ],
    final={"deleted"},
    initial="pending",
)

NODE = StateMachine(
    "baremetal node",
    [
        "enroll",
        "manageable",
        "available",
        "deploying",
        "active",
        "cleaning",
        "error",
    ],
    [
        ("enroll", "manageable"),
        ("manageable", "available"),
        ("available", "manageable"),
        ("available", "deploying"),
        ("deploying", "active"),
        ("deploying", "cleaning"),
        ("deploying", "available"),  # a deploy undone before it touched it
        ("active", "cleaning"),
        ("cleaning", "available"),
        ("manageable", "manageable"),  # manage again: re-validate the BMC
        ("error", "cleaning"),  # a DELETE retried on a node a delete failed
        ("error", "manageable"),
        (ANY, "error"),
    ],
    final=set(),
    initial="enroll",
)

# Admin actions on a node: where each may start from (409 otherwise) and
# where it lands when it succeeds (maintenance changes only the flag).
NODE_ACTIONS = {
    "manage": (("enroll", "manageable", "error"), "manageable"),
    "provide": (("manageable",), "available"),
}
# A node the claim or a flow holds: no edit, no delete, no action.
NODE_BUSY = frozenset({"deploying", "active", "cleaning"})
assert all(
    NODE.is_legal(s, dst) for srcs, dst in NODE_ACTIONS.values() for s in srcs
)


SNAPSHOT = StateMachine(
    "snapshot",
    ["pending", "creating", "available", "deleting", "deleted", "error"],
    [
        ("pending", "creating"),
        ("creating", "available"),
        ("available", "deleting"),
        ("error", "deleting"),
        ("pending", "deleting"),
        ("deleting", "deleted"),
        (ANY, "error"),
    ],
    final={"deleted"},
    initial="pending",
)

# The same table for volumes and snapshots: kind -> action -> (the API
# starts it from, held while it runs, lands in).
RECORD_TASKS = {
    "volume": {
        "create": InstanceTask((), ("pending", "creating"), "available"),
        "delete": InstanceTask(
            VOLUME.sources("deleting"), ("deleting",), "deleted"
        ),
        # A failed attach (compensated) goes back to available, a failed
        # detach to attached; only the reaper and an undo that failed
        # leave error.
        "attach": InstanceTask(("available",), ("attaching",), "attached"),
        "detach": InstanceTask(("attached",), ("detaching",), "available"),
    },
    "snapshot": {
        "create": InstanceTask((), ("pending", "creating"), "available"),
        "delete": InstanceTask(
            SNAPSHOT.sources("deleting"), ("deleting",), "deleted"
        ),
    },
}
RECORD_MACHINES = {"volume": VOLUME, "snapshot": SNAPSHOT}
assert all(
    RECORD_MACHINES[k].is_legal(t.busy[-1], t.final)
    for k, acts in RECORD_TASKS.items()
    for t in acts.values()
)

# Every resource's task table, for the reaper: which states a task of each
# kind and action holds its resource in (moved to error when it is reaped).
TASKS_BY_KIND = {"instance": INSTANCE_TASKS, **RECORD_TASKS}
