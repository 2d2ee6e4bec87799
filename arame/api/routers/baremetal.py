"""/v1/baremetal/nodes: the admin's bare-metal inventory."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response

from arame.api import errors
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.baremetal import (
    Node,
    NodeAccepted,
    NodeAction,
    NodeCreate,
    NodePage,
    NodeUpdate,
)
from arame.api.services.baremetal import BaremetalService

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/baremetal/nodes", tags=["baremetal"]
)
service = BaremetalService()


@router.get("", response_model=NodePage, responses=errors.UNKNOWN_MARKER)
def list_nodes(
    ctxt=Depends(authorize("baremetal:list")),
    status: Annotated[str | None, Query(max_length=16)] = None,
    name: Annotated[str | None, Query(max_length=63)] = None,
    maintenance: bool | None = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
):
    return service.list(
        ctxt,
        status=status,
        name=name,
        maintenance=maintenance,
        limit=limit,
        marker=marker,
    )


@router.get("/{node_id}", response_model=Node)
def get_node(node_id: str, ctxt=Depends(authorize("baremetal:get"))):
    return service.get(ctxt, node_id)


@router.post(
    "", status_code=201, response_model=Node, responses=errors.SERVICE_RULES
)
def enroll_node(body: NodeCreate, ctxt=Depends(authorize("baremetal:create"))):
    """The node starts in `enroll`; `manage` checks its BMC."""
    return service.create(ctxt, body)


@router.patch(
    "/{node_id}", response_model=Node, responses=errors.SERVICE_RULES
)
def update_node(
    node_id: str, body: NodeUpdate, ctxt=Depends(authorize("baremetal:update"))
):
    return service.update(ctxt, node_id, body)


@router.delete("/{node_id}", status_code=204, response_class=Response)
def delete_node(node_id: str, ctxt=Depends(authorize("baremetal:delete"))):
    service.delete(ctxt, node_id)
    return Response(status_code=204)


@router.post(
    "/{node_id}/actions", status_code=202, response_model=NodeAccepted
)
def node_action(
    node_id: str,
    body: Annotated[NodeAction, Body()],
    ctxt=Depends(authorize("baremetal:action")),
):
    """manage (the BMC answers: `manageable`), provide (power off,
    `available`): a task each; maintenance `{"on", "reason"?}`: the flag
    only (task_id null)."""
    return service.action(ctxt, node_id, body)
