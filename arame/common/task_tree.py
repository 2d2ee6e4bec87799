"""Tasks made of tasks: one parent for a request on many nodes.

A unit's add_nodes, delete_nodes, power actions and a group's cleanup are
each one task the user follows, but the work is the nodes' own tasks (a
build, a delete, a start or stop), run by the flows that already run them
and resumed by the same leases. The parent has no flow: it counts its
`children`, and `settle()` gives it one event per node as each child ends
and ends it when all have. A child's flow settles its parent once its end
has committed; the scheduler's sweep settles every running parent too, so
a scheduler dying between a child's end and the settle, or a child ended by
the reaper or by a refused cast, still ends the parent.

settle() locks the parent's row and is idempotent: it adds only the events
that are missing and ends the parent by compare-and-set.
"""

from collections.abc import Callable

import sqlalchemy as sa
from oslo_log import log

from arame.common import tasks, unit_cleanup
from arame.common.db import engine as db_engine
from arame.common.db import models

LOG = log.getLogger(__name__)
T = models.Task

# What a parent's end does to the records beyond the task itself, by
# (resource_type, action): called in the transaction that ends it, with
# (session, parent task, whether every child succeeded).
_ON_END: dict[tuple[str, str], Callable] = {
    ("unit_group", "delete"): unit_cleanup.group_cleaned,
    ("unit", "delete"): unit_cleanup.unit_deleted,
}


def create_parent(
    s,
    *,
    account_id: str,
    resource_id: str,
    resource_type: str,
    action: str,
    timeout_s: int,
    request_id: str | None,
) -> models.Task:
    """A running parent with no children yet: adopt() them, then
    settle (at once when there are none)."""
    task = tasks.create(
        s,
        account_id=account_id,
        resource_id=resource_id,
        resource_type=resource_type,
        action=action,
        timeout_s=timeout_s,
        request_id=request_id,
    )
    # Running from the start with no owner: no flow runs it, so it must
    # be neither a lost cast nor a lapsed lease to the sweep.
    task.status = "running"
    task.children = 0
    return task


def adopt(parent: models.Task, children: list[models.Task]) -> None:
    for child in children:
        child.parent_id = parent.id
    parent.children = (parent.children or 0) + len(children)


def _node_step(name: str) -> str:
    return f"node {name}"[:64]


def settle(parent_id: str) -> bool:
    """Record the ended children and end the parent when all have; True
    if this call ended it."""
    with db_engine.session() as s:
        parent = s.scalar(
            sa.select(T).where(T.id == parent_id).with_for_update()
        )
        if parent is None or parent.status in ("done", "failed"):
            return False
        I = models.Instance
        rows = s.execute(
            sa.select(
                T.id,
                T.status,
                T.action,
                T.error_step,
                T.error_message,
                T.created_at,
                T.updated_at,
                I.name,
                I.host,
            )
            .join(I, I.id == T.resource_id, isouter=True)
            .where(T.parent_id == parent_id)
            .order_by(T.updated_at, T.id)
        ).all()
        recorded = {e.step for e in parent.events}
        failed = []
        for r in rows:
            if r.status not in ("done", "failed"):
                continue
            name = r.name or r.id
            # The first line: a remote error carries the agent's traceback.
            first = (r.error_message or "").strip().splitlines()[:1]
            reason = first[0] if first else "no reason recorded"
            if r.status == "failed":
                failed.append(f"{name}: {r.error_step}: {reason}")
            step = _node_step(name)
            if step in recorded:
                continue
            tasks.add_event(
                s,
                parent_id,
                step,
                r.status,
                duration_ms=(r.updated_at - r.created_at).total_seconds()
                * 1000,
                host=r.host,
                message=(
                    f"{r.action} failed at {r.error_step}: {reason}"
                    if r.status == "failed"
                    else f"{r.action} done"
                ),
                at=r.updated_at,
            )
            recorded.add(step)
        if sum(r.status in ("done", "failed") for r in rows) < (
            parent.children or 0
        ):
            return False
        return _end(s, parent, failed)


def settle_soon(parent_id: str) -> None:
    """settle() where a failure must not reach the caller (a child's flow
    that has already ended): the sweep settles the parent instead."""
    try:
        settle(parent_id)
    except Exception as e:
        LOG.warning("settling task %s: %s (the sweep will)", parent_id, e)


def _end(s, parent: models.Task, failed: list[str]) -> bool:
    if failed:
        message = (
            f"{len(failed)} of {parent.children} nodes failed: "
            + "; ".join(failed)
        )
        ended = tasks.fail(s, parent.id, "nodes", message)
    else:
        ended = tasks.set_status(s, parent.id, "done")
    hook = _ON_END.get((parent.resource_type, parent.action))
    if ended and hook is not None:
        hook(s, parent, not failed)
    return ended


def running_parents(s, limit: int = 100) -> list[str]:
    return list(
        s.scalars(
            sa.select(T.id)
            .where(T.status == "running", T.children.is_not(None))
            .limit(limit)
        )
    )
