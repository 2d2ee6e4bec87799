from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from arame.api import errors, idempotency, pagination, tags
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.common import TagsOut, TagsUpdate
from arame.api.schemas.instances import (
    ActionAccepted,
    ConsoleOutput,
    Instance,
    InstanceAccepted,
    InstanceAction,
    InstanceCreate,
    InstancePage,
)
from arame.api.services.instances import InstanceService
from arame.common.db import models

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/instances", tags=["instances"]
)
service = InstanceService()

IdemKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]
Sort = pagination.sort_query("name", "status", "created_at", "updated_at")


@router.post(
    "",
    status_code=202,
    response_model=InstanceAccepted,
    responses=errors.IDEMPOTENCY_REUSED,
)
def create_instance(
    body: InstanceCreate,
    ctxt=Depends(authorize("instances:create")),
    idempotency_key: IdemKey = None,
):
    fp = idempotency.fingerprint("POST", "/v1/instances", body.model_dump())
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        202,
        lambda: service.create(ctxt, body),
        model=InstanceAccepted,
    )


@router.get("", response_model=InstancePage, responses=errors.UNKNOWN_MARKER)
def list_instances(
    ctxt=Depends(authorize("instances:list")),
    status: Annotated[str | None, Query(max_length=16)] = None,
    name: Annotated[str | None, Query(max_length=63)] = None,
    account_id: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: Sort = None,
    tag: tags.TagQuery = None,
    unit: Annotated[
        str | None, Query(max_length=16, description="nodes of this unit")
    ] = None,
):
    return service.list(
        ctxt,
        status=status,
        name=name,
        account_id=account_id,
        limit=limit,
        marker=marker,
        sort=sort,
        tag=tag,
        unit=unit,
    )


@router.get("/{instance_id}", response_model=Instance)
def get_instance(instance_id: str, ctxt=Depends(authorize("instances:get"))):
    return service.get(ctxt, instance_id)


@router.delete(
    "/{instance_id}", status_code=202, response_model=InstanceAccepted
)
def delete_instance(
    instance_id: str, ctxt=Depends(authorize("instances:delete"))
):
    return service.delete(ctxt, instance_id)


@router.post(
    "/{instance_id}/actions",
    status_code=202,
    response_model=ActionAccepted,
    responses=errors.IDEMPOTENCY_REUSED,
)
def instance_action(
    instance_id: str,
    body: InstanceAction,
    ctxt=Depends(authorize("instances:action")),
    idempotency_key: IdemKey = None,
):
    fp = idempotency.fingerprint(
        "POST", f"/v1/instances/{instance_id}/actions", body.model_dump()
    )
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        202,
        lambda: service.action(ctxt, instance_id, body.action),
        model=ActionAccepted,
    )


@router.get("/{instance_id}/console", response_model=ConsoleOutput)
def instance_console(
    instance_id: str, ctxt=Depends(authorize("instances:console"))
):
    return service.console(ctxt, instance_id)


@router.put("/{instance_id}/tags", response_model=TagsOut)
def replace_instance_tags(
    instance_id: str,
    body: TagsUpdate,
    ctxt=Depends(authorize("instances:update_tags")),
):
    return tags.replace(
        ctxt,
        models.Instance,
        "instance",
        instance_id,
        "instances:update_tags",
        body.tags,
    )
