import sqlalchemy as sa

from arame.api import pagination
from arame.api.lookup import load_owned
from arame.common import tasks
from arame.common.db import engine as db_engine
from arame.common.db import models


def get(ctxt, task_id: str) -> dict:
    with db_engine.session() as s:
        return tasks.to_dict(
            load_owned(s, ctxt, models.Task, "task", task_id, "tasks:get")
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
