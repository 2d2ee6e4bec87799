"""/v1/routers: an account's networks joined to each other and to an
external network (arame/api/services/routers.py)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from arame.api import errors, idempotency, pagination
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.routing import (
    Router,
    RouterCreate,
    RouterPage,
    RouterTask,
    RouterUpdate,
)
from arame.api.services.routers import RouterService

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/routers", tags=["routers"]
)
service = RouterService()


@router.post(
    "",
    status_code=202,
    response_model=Router,
    responses=errors.IDEMPOTENCY_REUSED,
)
def create_router(
    body: RouterCreate,
    ctxt=Depends(authorize("routers:create")),
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=255),
    ] = None,
):
    """Record the router and apply it on an L3 host (the task)."""
    fp = idempotency.fingerprint("POST", "/v1/routers", body.model_dump())
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        202,
        lambda: service.create(ctxt, body),
        model=Router,
    )


@router.get("", response_model=RouterPage, responses=errors.UNKNOWN_MARKER)
def list_routers(
    ctxt=Depends(authorize("routers:list")),
    name: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: pagination.sort_query("name", "created_at", "updated_at") = None,
):
    return service.list(ctxt, name=name, limit=limit, marker=marker, sort=sort)


@router.get("/{router_ref}", response_model=Router)
def get_router(router_ref: str, ctxt=Depends(authorize("routers:get"))):
    """By id, or by name in the caller's account."""
    return service.get(ctxt, router_ref)


@router.patch(
    "/{router_ref}",
    status_code=202,
    response_model=Router,
    responses=errors.SERVICE_RULES,
)
def update_router(
    router_ref: str,
    body: RouterUpdate,
    ctxt=Depends(authorize("routers:update")),
):
    """Rename; change or take away (null) the external network; give the
    whole new list of networks."""
    return service.update(ctxt, router_ref, body)


@router.delete("/{router_ref}", status_code=202, response_model=RouterTask)
def delete_router(router_ref: str, ctxt=Depends(authorize("routers:delete"))):
    """Refused (409) while floating IPs are associated through it."""
    return service.delete(ctxt, router_ref)
