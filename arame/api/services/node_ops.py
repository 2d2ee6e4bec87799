"""Deleting, starting and stopping instances: the compare-and-set and the
task in the caller's transaction, the cast after its commit. DELETE and
actions of one instance use them, and a unit's requests for many (each a
child of one task, common/task_tree.py)."""

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from arame.api.errors import ServiceUnavailable
from arame.api.services.scheduling import dispatch
from arame.common import states, task_tree, tasks
from arame.common.conf import CONF
from arame.common.db import models

I = models.Instance


@dataclass
class Child:
    instance_id: str
    task: models.Task
    # What the cast sends: (scheduler, ctxt, task id, instance id).
    send: Callable
    # States the instance may be in while the cast is on its way.
    src_states: tuple[str, ...]


def begin_delete(
    s, ctxt, inst: models.Instance, again: bool = True
) -> Child | None:
    """Every live state may go to shuttingdown (a build in flight is
    cancelled by its next compare-and-set); None if the instance is
    terminated meanwhile. A DELETE that names the instance may repeat one
    already under way (again); a unit's count must not, or two concurrent
    counts that ranked the same node would both take it and delete one
    node between them."""
    sources = set(states.INSTANCE.sources("shuttingdown"))
    if again:
        sources.add("shuttingdown")
    else:
        sources.discard("shuttingdown")
    rc = s.execute(
        sa.update(I)
        .where(I.id == inst.id, I.status.in_(sorted(sources)))
        .values(
            status="shuttingdown",
            status_reason=None,
            updated_at=models.utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if rc != 1:
        return None
    task = tasks.create(
        s,
        account_id=inst.account_id,
        resource_id=inst.id,
        resource_type="instance",
        action="delete",
        timeout_s=CONF.scheduler.delete_timeout,
        request_id=ctxt.request_id,
    )
    return Child(
        inst.id,
        task,
        lambda sched, c, tid, iid, p=inst.provider: sched.delete_instance(
            c, tid, iid, p
        ),
        ("shuttingdown",),
    )


def begin_action(s, ctxt, inst: models.Instance, action: str) -> Child | None:
    """start/stop one node if it is where the action starts from; None
    (nothing to do) otherwise."""
    spec = states.INSTANCE_TASKS[action]
    (src,), (busy,) = spec.src, spec.busy
    rc = s.execute(
        sa.update(I)
        .where(I.id == inst.id, I.status == src)
        .values(status=busy, status_reason=None, updated_at=models.utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if rc != 1:
        return None
    task = tasks.create(
        s,
        account_id=inst.account_id,
        resource_id=inst.id,
        resource_type="instance",
        action=action,
        timeout_s=CONF.scheduler.action_timeout,
        request_id=ctxt.request_id,
    )
    return Child(
        inst.id,
        task,
        lambda sched, c, tid, iid, p=inst.provider: sched.instance_action(
            c, tid, iid, action, p
        ),
        (busy,),
    )


def cast_all(scheduler, ctxt, parent_id: str, children: list[Child]) -> None:
    """Cast every child; one the bus refuses ends failed (dispatch), the
    others still go. The parent is settled here when nothing will settle
    it later (no children, or some refused); a refusal is then a 503."""
    refused = None
    for c in children:
        try:
            dispatch(
                lambda c=c: c.send(scheduler, ctxt, c.task.id, c.instance_id),
                c.task.id,
                (I, c.instance_id, c.src_states),
            )
        except ServiceUnavailable as e:
            refused = e
    if refused is not None or not children:
        task_tree.settle(parent_id)
    if refused is not None:
        raise refused
