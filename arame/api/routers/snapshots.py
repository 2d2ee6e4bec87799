from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from arame.api import errors, idempotency, pagination
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.snapshots import (
    Snapshot,
    SnapshotAccepted,
    SnapshotCreate,
    SnapshotPage,
)
from arame.api.services.snapshots import SnapshotService

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/snapshots", tags=["snapshots"]
)
Sort = pagination.sort_query(
    "name", "status", "size_gb", "created_at", "updated_at"
)
service = SnapshotService()

IdemKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]


@router.post(
    "",
    status_code=202,
    response_model=SnapshotAccepted,
    responses=errors.IDEMPOTENCY_REUSED,
)
def create_snapshot(
    body: SnapshotCreate,
    ctxt=Depends(authorize("snapshots:create")),
    idempotency_key: IdemKey = None,
):
    fp = idempotency.fingerprint("POST", "/v1/snapshots", body.model_dump())
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        202,
        lambda: service.create(ctxt, body),
        model=SnapshotAccepted,
    )


@router.get("", response_model=SnapshotPage, responses=errors.UNKNOWN_MARKER)
def list_snapshots(
    ctxt=Depends(authorize("snapshots:list")),
    status: Annotated[str | None, Query(max_length=16)] = None,
    name: Annotated[str | None, Query(max_length=63)] = None,
    volume_id: Annotated[str | None, Query(max_length=16)] = None,
    account_id: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: Sort = None,
):
    return service.list(
        ctxt,
        status=status,
        name=name,
        account_id=account_id,
        volume_id=volume_id,
        limit=limit,
        marker=marker,
        sort=sort,
    )


@router.get("/{snapshot_id}", response_model=Snapshot)
def get_snapshot(snapshot_id: str, ctxt=Depends(authorize("snapshots:get"))):
    return service.get(ctxt, snapshot_id)


@router.delete(
    "/{snapshot_id}", status_code=202, response_model=SnapshotAccepted
)
def delete_snapshot(
    snapshot_id: str, ctxt=Depends(authorize("snapshots:delete"))
):
    return service.delete(ctxt, snapshot_id)
