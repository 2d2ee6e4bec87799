"""Flows that move one row through its state table: the compare-and-set
of each transition, and the instance's flow (the row every instance task
moves)."""

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

    def __init__(self, ctxt, task_id: str, instance_id: str):
        super().__init__(ctxt, task_id, instance_id)
        self.instance = None

    @property
    def instance_id(self) -> str:
        return self.resource_id

    def load(self, s) -> None:
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
