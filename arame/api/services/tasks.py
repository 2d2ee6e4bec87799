import sqlalchemy as sa

from arame.api import pagination, policy
from arame.common import exceptions, ids, tasks
from arame.common.db import engine as db_engine
from arame.common.db import models, prepared


def get(ctxt, task_id: str) -> dict:
    """One task and its events in one statement, as rows: a long-polling
    client asks for its task at least twice, so this is the API's most
    frequent read (through the ORM it was an eighth of the API's CPU)."""
    what = f"task {task_id}"
    if not ids.is_valid("task", task_id):
        raise exceptions.NotFound(f"{what} not found")
    with db_engine.session() as s:
        rows = s.execute(_ONE_TASK, prepared.params(id=task_id)).all()
    if not rows:
        raise exceptions.NotFound(f"{what} not found")
    task = rows[0]
    policy.enforce_owned(ctxt, "tasks:get", task.account_id, what)
    events = [
        {f: getattr(r, f"event_{f}") for f in tasks.EVENT_FIELDS}
        for r in rows
        if r.event_id is not None
    ]
    return tasks.to_dict(task, events)


_TASK = models.Task.__table__
_EVENT = models.TaskEvent.__table__
# Built once (common/db/prepared.py).
# Only the columns the answer shows (and the owner's account, for the
# policy): PyMySQL decodes each column's description on every execution,
# in Python, and this read runs a few times per task.
_SHOWN = (
    "id",
    "account_id",
    "status",
    "resource_id",
    "resource_type",
    "action",
    "step",
    "error_step",
    "error_message",
    "deadline_at",
    "created_at",
    "updated_at",
)
_ONE_TASK = (
    sa.select(
        *(_TASK.c[c] for c in _SHOWN),
        _EVENT.c.id.label("event_id"),
        *(_EVENT.c[f].label(f"event_{f}") for f in tasks.EVENT_FIELDS),
    )
    .select_from(_TASK.outerjoin(_EVENT, _EVENT.c.task_id == _TASK.c.id))
    .where(_TASK.c.id == prepared.bound("id"))
    .order_by(_EVENT.c.id)
)


def list_tasks(
    ctxt, *, resource_id=None, status=None, limit=None, marker=None, sort=None
) -> dict:
    T = models.Task
    stmt = sa.select(T)
    if not ctxt.is_admin:
        stmt = stmt.where(T.account_id == ctxt.account_id)
    if resource_id:
        stmt = stmt.where(T.resource_id == resource_id)
    if status:
        stmt = stmt.where(T.status == status)
    with db_engine.session() as s:
        rows, nxt = pagination.page(
            s, stmt, T, marker, limit, descending=True, sort=sort
        )
        return {"items": [tasks.to_dict(t) for t in rows], "next_marker": nxt}
