from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from arame.api import errors, pagination
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.tasks import Task, TaskPage
from arame.api.services import tasks as task_service

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
def get_task(task_id: str, ctxt=Depends(authorize("tasks:get"))):
    return task_service.get(ctxt, task_id)
