import sqlalchemy as sa

from arame.api import pagination, policy
from arame.common import exceptions, ids, tasks
from arame.common.db import engine as db_engine
from arame.common.db import models


def get(ctxt, task_id: str) -> dict:
    with db_engine.session() as s:
        task = s.get(models.Task, task_id) if ids.is_valid("task", task_id) else None
        if task is None:
            raise exceptions.NotFound(f"task {task_id} not found")
        policy.enforce_owned(ctxt, "tasks:get", task.account_id, f"task {task_id}")
        return tasks.to_dict(task)


def list_tasks(ctxt, *, resource_id=None, status=None, limit=None,
               marker=None) -> dict:
    T = models.Task
    stmt = sa.select(T)
    if not ctxt.is_admin:
        stmt = stmt.where(T.account_id == ctxt.account_id)
    if resource_id:
        stmt = stmt.where(T.resource_id == resource_id)
    if status:
        stmt = stmt.where(T.status == status)
    with db_engine.session() as s:
        rows, nxt = pagination.page(s, stmt, T, marker, limit, descending=True)
        return {"items": [tasks.to_dict(t) for t in rows], "next_marker": nxt}
