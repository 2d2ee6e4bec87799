"""Flows that move one row through its state table: the compare-and-set
of each transition, and the instance's flow (the row every instance task
moves)."""

import collections
import functools

import sqlalchemy as sa

from arame.common import states, usage
from arame.common.db import models, prepared
from arame.scheduler.flows.base import TaskFlow


class RowFlow(TaskFlow):
    """A task that moves one row (`model`, id `resource_id`) through its
    state table (`machine`)."""

    model: type | None = None

    @property
    def machine(self) -> states.StateMachine:
        raise NotImplementedError

    @property
    def own_states(self) -> tuple[str, ...]:
        raise NotImplementedError

    def transition(
        self,
        s,
        dst: str,
        *,
        src: tuple[str, ...] | None = None,
        reason: str | None = None,
        **values,
    ) -> bool:
        """CAS the row to dst from any state the table allows (or src): a
        transition that lost a race simply does not happen."""
        allowed = src if src is not None else self.machine.sources(dst)
        rc = s.execute(
            _transition(
                self.model.__table__,
                dst,
                tuple(allowed),
                tuple(sorted(values)),
            ),
            prepared.params(
                id=self.resource_id,
                reason=reason,
                now=models.utcnow(),
                **values,
            ),
        ).rowcount
        return rc == 1

    def mark_error(self, s, reason: str) -> None:
        self.transition(s, "error", src=self.own_states, reason=reason)


class InstanceFlow(RowFlow):
    kind = "instance"
    model = models.Instance
    machine = states.INSTANCE

    @property
    def own_states(self) -> tuple[str, ...]:
        """States this flow moves the instance through: only from these
        does a failure put it in error (a delete that overtook it wins)."""
        return states.INSTANCE_TASKS[self.action].busy

    # A flow that only reads its instance (the VM's build and delete, a
    # cycle's two tasks) reads it as a row, with the task's head in one
    # statement: a round trip and the ORM's loading fewer per task. The
    # read comes before the take; a change landing between them fails
    # the flow's next compare-and-set, as one landing after it would.
    instance_as_row = False

    def __init__(self, ctxt, task_id: str, instance_id: str):
        super().__init__(ctxt, task_id, instance_id)
        self.instance = None
        self._read_with_head = _UNREAD

    @property
    def instance_id(self) -> str:
        return self.resource_id

    def read_head(self, s):
        if not self.instance_as_row:
            return super().read_head(s)
        row = s.execute(
            _HEAD_AND_INSTANCE,
            prepared.params(id=self.task_id, instance=self.instance_id),
        ).first()
        if row is None:
            return None
        head, inst = row[:_HEAD], row[_HEAD:]
        self._read_with_head = InstanceRow(*inst) if inst[0] else None
        return TaskHead(*head)

    def load(self, s) -> None:
        if self._read_with_head is not _UNREAD:
            self.instance, self._read_with_head = self._read_with_head, _UNREAD
        elif self.instance_as_row:
            self.instance = s.execute(
                _INSTANCE_ROW, prepared.params(id=self.instance_id)
            ).first()
        else:
            self.instance = s.get(models.Instance, self.instance_id)

    def emit_usage(self, event: str, inst: models.Instance) -> None:
        self.notify_usage(
            event, usage.instance_record(inst, models.utcnow().isoformat())
        )


@functools.cache
def _transition(table, dst: str, src: tuple[str, ...], keys: tuple[str, ...]):
    """A transition's compare-and-set, built once per shape (every step of
    every flow runs one: common/db/prepared.py)."""
    return (
        sa.update(table)
        .where(table.c.id == prepared.bound("id"), table.c.status.in_(src))
        .values(
            status=dst,
            status_reason=prepared.bound("reason"),
            updated_at=prepared.bound("now"),
            **prepared.setting(keys),
        )
    )


# Every build and delete reads these: built once (common/db/prepared.py).
_I = models.Instance.__table__
_T = models.Task.__table__
_INSTANCE_ROW = sa.select(_I).where(_I.c.id == prepared.bound("id"))
_UNREAD = object()
TaskHead = collections.namedtuple(
    "TaskHead", ["deadline_at", "account_id", "request_id", "parent_id"]
)
InstanceRow = collections.namedtuple("InstanceRow", _I.c.keys())
_HEAD = len(TaskHead._fields)
_HEAD_AND_INSTANCE = (
    sa.select(*(_T.c[f] for f in TaskHead._fields), _I)
    .select_from(_T.outerjoin(_I, _I.c.id == prepared.bound("instance")))
    .where(_T.c.id == prepared.bound("id"))
)
