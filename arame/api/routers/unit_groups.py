"""/v1/unit_groups: a group is found by its id or by its name."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from arame.api import errors
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.units import (
    Deleting,
    UnitGroup,
    UnitGroupCreate,
    UnitGroupPage,
)
from arame.api.services.unit_groups import UnitGroupService

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/unit_groups", tags=["unit groups"]
)
service = UnitGroupService()


@router.post("", status_code=201, response_model=UnitGroup)
def create_unit_group(
    body: UnitGroupCreate, ctxt=Depends(authorize("unit_groups:create"))
):
    return service.create(ctxt, body.name)


@router.get("", response_model=UnitGroupPage, responses=errors.UNKNOWN_MARKER)
def list_unit_groups(
    ctxt=Depends(authorize("unit_groups:list")),
    name: Annotated[str | None, Query(max_length=63)] = None,
    account_id: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
):
    return service.list(
        ctxt, name=name, account_id=account_id, limit=limit, marker=marker
    )


@router.get("/{unit_group}", response_model=UnitGroup)
def get_unit_group(
    unit_group: str, ctxt=Depends(authorize("unit_groups:get"))
):
    return service.get(ctxt, unit_group)


@router.delete("/{unit_group}", status_code=202, response_model=Deleting)
def delete_unit_group(
    unit_group: str, ctxt=Depends(authorize("unit_groups:delete"))
):
    """The cleanup: every node of every unit, then the units, then the
    group, as one task; from any state."""
    return service.delete(ctxt, unit_group)
