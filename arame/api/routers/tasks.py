from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from arame.api import errors, pagination
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.tasks import Task, TaskPage
from arame.api.services import tasks as task_service
from arame.api.task_watch import waiters as task_watch
from arame.common.conf import CONF

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/tasks", tags=["tasks"]
)


@router.get("", response_model=TaskPage, responses=errors.UNKNOWN_MARKER)
def list_tasks(
    ctxt=Depends(authorize("tasks:list")),
    resource_id: Annotated[str | None, Query(max_length=16)] = None,
    status: Literal["queued", "running", "done", "failed"] | None = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: pagination.sort_query(
        "created_at", "updated_at", "status", "action"
    ) = None,
):
    """Newest first unless `sort` says otherwise."""
    return task_service.list_tasks(
        ctxt,
        resource_id=resource_id,
        status=status,
        limit=limit,
        marker=marker,
        sort=sort,
    )


@router.get("/{task_id}", response_model=Task)
async def get_task(
    task_id: str,
    ctxt=Depends(authorize("tasks:get")),
    wait: Annotated[
        float | None,
        Query(
            ge=0,
            le=300,
            description="Long-poll: if the task has not ended, answer as "
            "soon as it changes (a step, its end) or after this many "
            "seconds, whichever is first; capped by [api] max_task_wait. "
            "A client waiting for the end asks again with the same wait "
            "until `status` is final.",
        ),
    ] = None,
):
    task = await run_in_threadpool(task_service.get, ctxt, task_id)
    timeout = min(wait or 0, CONF.api.max_task_wait)
    if timeout <= 0 or task["status"] in ("done", "failed"):
        return task
    await task_watch.get().wait(task, timeout)
    return await run_in_threadpool(task_service.get, ctxt, task_id)
