from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from arame.api import errors, idempotency, pagination, tags
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.common import TagsOut, TagsUpdate
from arame.api.schemas.security_groups import (
    SecurityGroup,
    SecurityGroupCreate,
    SecurityGroupPage,
    SecurityGroupUpdate,
    SecurityGroupUpdated,
)
from arame.api.services.security_groups import SecurityGroupService
from arame.common.db import models

router = APIRouter(
    route_class=RetryingRoute,
    prefix="/v1/security_groups",
    tags=["security_groups"],
)
service = SecurityGroupService()


@router.post(
    "",
    status_code=201,
    response_model=SecurityGroup,
    responses=errors.IDEMPOTENCY_REUSED,
)
def create_security_group(
    body: SecurityGroupCreate,
    ctxt=Depends(authorize("security_groups:create")),
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=255),
    ] = None,
):
    fp = idempotency.fingerprint(
        "POST", "/v1/security_groups", body.model_dump()
    )
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        201,
        lambda: service.create(ctxt, body),
        model=SecurityGroup,
    )


@router.get(
    "", response_model=SecurityGroupPage, responses=errors.UNKNOWN_MARKER
)
def list_security_groups(
    ctxt=Depends(authorize("security_groups:list")),
    name: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: pagination.sort_query("name", "created_at", "updated_at") = None,
    tag: tags.TagQuery = None,
):
    return service.list(
        ctxt, name=name, limit=limit, marker=marker, sort=sort, tag=tag
    )


@router.get("/{group_id}", response_model=SecurityGroup)
def get_security_group(
    group_id: str, ctxt=Depends(authorize("security_groups:get"))
):
    return service.get(ctxt, group_id)


@router.patch(
    "/{group_id}",
    response_model=SecurityGroupUpdated,
    responses=errors.SERVICE_RULES,
)
def update_security_group(
    group_id: str,
    body: SecurityGroupUpdate,
    ctxt=Depends(authorize("security_groups:update")),
):
    return service.update(ctxt, group_id, body)


@router.delete("/{group_id}", status_code=204, response_class=Response)
def delete_security_group(
    group_id: str, ctxt=Depends(authorize("security_groups:delete"))
):
    service.delete(ctxt, group_id)


@router.put("/{group_id}/tags", response_model=TagsOut)
def replace_security_group_tags(
    group_id: str,
    body: TagsUpdate,
    ctxt=Depends(authorize("security_groups:update_tags")),
):
    return tags.replace(
        ctxt,
        models.SecurityGroup,
        "security_group",
        group_id,
        "security_groups:update_tags",
        body.tags,
    )
