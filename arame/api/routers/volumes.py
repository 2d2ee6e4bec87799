from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Query

from arame.api import errors, idempotency, pagination, tags
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.common import TagsOut, TagsUpdate
from arame.api.schemas.volumes import (
    Volume,
    VolumeAccepted,
    VolumeAction,
    VolumeCreate,
    VolumePage,
)
from arame.api.services.volumes import VolumeService
from arame.common.db import models

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/volumes", tags=["volumes"]
)
service = VolumeService()

Sort = pagination.sort_query(
    "name", "status", "size_gb", "created_at", "updated_at"
)
IdemKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]


@router.post(
    "",
    status_code=202,
    response_model=VolumeAccepted,
    responses=errors.IDEMPOTENCY_REUSED,
)
def create_volume(
    body: VolumeCreate,
    ctxt=Depends(authorize("volumes:create")),
    idempotency_key: IdemKey = None,
):
    fp = idempotency.fingerprint("POST", "/v1/volumes", body.model_dump())
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        202,
        lambda: service.create(ctxt, body),
        model=VolumeAccepted,
    )


@router.get("", response_model=VolumePage, responses=errors.UNKNOWN_MARKER)
def list_volumes(
    ctxt=Depends(authorize("volumes:list")),
    status: Annotated[str | None, Query(max_length=16)] = None,
    name: Annotated[str | None, Query(max_length=63)] = None,
    account_id: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: Sort = None,
    tag: tags.TagQuery = None,
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
    )


@router.get("/{volume_id}", response_model=Volume)
def get_volume(volume_id: str, ctxt=Depends(authorize("volumes:get"))):
    return service.get(ctxt, volume_id)


@router.delete("/{volume_id}", status_code=202, response_model=VolumeAccepted)
def delete_volume(volume_id: str, ctxt=Depends(authorize("volumes:delete"))):
    return service.delete(ctxt, volume_id)


@router.post(
    "/{volume_id}/actions",
    status_code=202,
    response_model=VolumeAccepted,
    responses=errors.SERVICE_RULES,
)
def volume_action(
    volume_id: str,
    body: Annotated[VolumeAction, Body()],
    ctxt=Depends(authorize("volumes:action")),
):
    """attach (`instance_id`: running or stopped, same account) / detach:
    202 + task; 409 with the state when the volume or instance cannot."""
    return service.action(ctxt, volume_id, body)


@router.put("/{volume_id}/tags", response_model=TagsOut)
def replace_volume_tags(
    volume_id: str,
    body: TagsUpdate,
    ctxt=Depends(authorize("volumes:update_tags")),
):
    return tags.replace(
        ctxt,
        models.Volume,
        "volume",
        volume_id,
        "volumes:update_tags",
        body.tags,
    )
