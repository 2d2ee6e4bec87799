"""/v1/units: a unit is found by its id, or by its name (within
`?unit_group=` when the name is in several groups)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from arame.api import errors, idempotency
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.units import (
    Deleting,
    Unit,
    UnitAccepted,
    UnitAction,
    UnitActionAccepted,
    UnitCreate,
    UnitPage,
    UnitUpdate,
)
from arame.api.services.units import UnitService

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/units", tags=["units"]
)
service = UnitService()

IdemKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]
GroupQuery = Annotated[
    str | None,
    Query(
        max_length=63,
        description="the unit group (id or name) a unit name is looked up in",
    ),
]


@router.post(
    "",
    status_code=202,
    response_model=UnitAccepted,
    responses=errors.IDEMPOTENCY_REUSED,
)
def create_unit(
    body: UnitCreate,
    ctxt=Depends(authorize("units:create")),
    idempotency_key: IdemKey = None,
):
    fp = idempotency.fingerprint("POST", "/v1/units", body.model_dump())
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        202,
        lambda: service.create(ctxt, body),
        model=UnitAccepted,
    )


@router.get("", response_model=UnitPage, responses=errors.UNKNOWN_MARKER)
def list_units(
    ctxt=Depends(authorize("units:list")),
    unit_group: GroupQuery = None,
    name: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
):
    return service.list(
        ctxt, unit_group=unit_group, name=name, limit=limit, marker=marker
    )


@router.get("/{unit}", response_model=Unit)
def get_unit(
    unit: str,
    ctxt=Depends(authorize("units:get")),
    unit_group: GroupQuery = None,
):
    return service.get(ctxt, unit, unit_group)


@router.patch("/{unit}", response_model=Unit)
def update_unit(
    unit: str, body: UnitUpdate, ctxt=Depends(authorize("units:update"))
):
    return service.update(ctxt, unit, body)


@router.delete("/{unit}", status_code=202, response_model=Deleting)
def delete_unit(unit: str, ctxt=Depends(authorize("units:delete"))):
    return service.delete(ctxt, unit)


@router.post(
    "/{unit}/actions",
    status_code=202,
    response_model=UnitActionAccepted,
    responses=errors.IDEMPOTENCY_REUSED,
)
def unit_action(
    unit: str,
    body: UnitAction,
    ctxt=Depends(authorize("units:action")),
    idempotency_key: IdemKey = None,
):
    """add_nodes (count or ip_addresses), delete_nodes (ip_addresses,
    node_ids, or a count the server picks: nodes in error first, then the
    newest), power_on / power_off (node_ids, default every node)."""
    fp = idempotency.fingerprint(
        "POST", f"/v1/units/{unit}/actions", body.model_dump()
    )
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        202,
        lambda: service.action(ctxt, unit, body),
        model=UnitActionAccepted,
    )
