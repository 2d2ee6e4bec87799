"""/v1/floating_ips: addresses of an external network's pool, associated
with an instance's address (arame/api/services/floating_ips.py)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse

from arame.api import errors, idempotency, pagination
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.routing import (
    FloatingIp,
    FloatingIpAction,
    FloatingIpCreate,
    FloatingIpPage,
    RouterTask,
)
from arame.api.services.floating_ips import FloatingIpService

router = APIRouter(
    route_class=RetryingRoute,
    prefix="/v1/floating_ips",
    tags=["floating_ips"],
)
service = FloatingIpService()


@router.post(
    "",
    status_code=201,
    response_model=FloatingIp,
    responses=errors.IDEMPOTENCY_REUSED,
)
def allocate_floating_ip(
    body: FloatingIpCreate,
    ctxt=Depends(authorize("floating_ips:create")),
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=255),
    ] = None,
):
    """An address of the external network's pool (quota floating_ips)."""
    fp = idempotency.fingerprint("POST", "/v1/floating_ips", body.model_dump())
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        201,
        lambda: service.create(ctxt, body),
        model=FloatingIp,
    )


@router.get("", response_model=FloatingIpPage, responses=errors.UNKNOWN_MARKER)
def list_floating_ips(
    ctxt=Depends(authorize("floating_ips:list")),
    instance: Annotated[str | None, Query(max_length=16)] = None,
    network: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: pagination.sort_query("address", "created_at", "updated_at") = None,
):
    """`instance`, `network`: ids."""
    return service.list(
        ctxt,
        instance=instance,
        network=network,
        limit=limit,
        marker=marker,
        sort=sort,
    )


@router.get("/{floating_ip_id}", response_model=FloatingIp)
def get_floating_ip(
    floating_ip_id: str, ctxt=Depends(authorize("floating_ips:get"))
):
    return service.get(ctxt, floating_ip_id)


@router.delete(
    "/{floating_ip_id}",
    status_code=204,
    response_class=Response,
    responses={
        202: {
            "model": RouterTask,
            "description": "it was associated: the task removes it from "
            "its router",
        }
    },
)
def release_floating_ip(
    floating_ip_id: str, ctxt=Depends(authorize("floating_ips:delete"))
):
    """Release the address (disassociating it first if need be)."""
    out = service.delete(ctxt, floating_ip_id)
    if out is None:
        return Response(status_code=204)
    return JSONResponse(
        status_code=202, content=RouterTask(**out).model_dump(mode="json")
    )


@router.post(
    "/{floating_ip_id}/actions",
    status_code=202,
    response_model=FloatingIp,
    responses=errors.SERVICE_RULES,
)
def floating_ip_action(
    floating_ip_id: str,
    body: FloatingIpAction,
    ctxt=Depends(authorize("floating_ips:action")),
):
    """`{"associate": {"instance": ..., "ip_address"?: ...}}` or
    `{"disassociate": {}}`; the task applies the router again."""
    return service.action(ctxt, floating_ip_id, body)
