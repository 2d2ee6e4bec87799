from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from arame.api import errors, idempotency, pagination, tags
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.common import TagsOut, TagsUpdate
from arame.api.schemas.networks import Network, NetworkCreate, NetworkPage
from arame.api.services import networks
from arame.common.db import models

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/networks", tags=["networks"]
)


@router.post(
    "",
    status_code=201,
    response_model=Network,
    responses=errors.IDEMPOTENCY_REUSED,
)
def create_network(
    body: NetworkCreate,
    ctxt=Depends(authorize("networks:create")),
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=255),
    ] = None,
):
    fp = idempotency.fingerprint("POST", "/v1/networks", body.model_dump())
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        201,
        lambda: networks.create(ctxt, body),
        model=Network,
    )


@router.get("", response_model=NetworkPage, responses=errors.UNKNOWN_MARKER)
def list_networks(
    ctxt=Depends(authorize("networks:list")),
    name: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: pagination.sort_query(
        "name", "cidr", "created_at", "updated_at"
    ) = None,
    tag: tags.TagQuery = None,
):
    return networks.list_networks(
        ctxt, name=name, limit=limit, marker=marker, sort=sort, tag=tag
    )


@router.get("/{network_id}", response_model=Network)
def get_network(network_id: str, ctxt=Depends(authorize("networks:get"))):
    return networks.get(ctxt, network_id)


@router.delete("/{network_id}", status_code=204, response_class=Response)
def delete_network(
    network_id: str, ctxt=Depends(authorize("networks:delete"))
):
    networks.delete(ctxt, network_id)


@router.put("/{network_id}/tags", response_model=TagsOut)
def replace_network_tags(
    network_id: str,
    body: TagsUpdate,
    ctxt=Depends(authorize("networks:update_tags")),
):
    return tags.replace(
        ctxt,
        models.Network,
        "network",
        network_id,
        "networks:update_tags",
        body.tags,
    )
