from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from arame.api import errors, idempotency, pagination
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.key_pairs import (
    KeyPair,
    KeyPairCreate,
    KeyPairCreated,
    KeyPairPage,
)
from arame.api.services import key_pairs

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/key_pairs", tags=["key_pairs"]
)


@router.post(
    "",
    status_code=201,
    response_model=KeyPairCreated,
    responses=errors.IDEMPOTENCY_REUSED,
)
def create_key_pair(
    body: KeyPairCreate,
    ctxt=Depends(authorize("key_pairs:create")),
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=255),
    ] = None,
):
    fp = idempotency.fingerprint("POST", "/v1/key_pairs", body.model_dump())
    return idempotency.run(
        ctxt,
        idempotency_key,
        fp,
        201,
        lambda: key_pairs.create(ctxt, body),
        model=KeyPairCreated,
    )


@router.get("", response_model=KeyPairPage, responses=errors.UNKNOWN_MARKER)
def list_key_pairs(
    ctxt=Depends(authorize("key_pairs:list")),
    name: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[str | None, Query(max_length=16)] = None,
    sort: pagination.sort_query("name", "created_at") = None,
):
    return key_pairs.list_key_pairs(
        ctxt, name=name, limit=limit, marker=marker, sort=sort
    )


@router.get("/{key_pair_id}", response_model=KeyPair)
def get_key_pair(key_pair_id: str, ctxt=Depends(authorize("key_pairs:get"))):
    return key_pairs.get(ctxt, key_pair_id)


@router.delete("/{key_pair_id}", status_code=204, response_class=Response)
def delete_key_pair(
    key_pair_id: str, ctxt=Depends(authorize("key_pairs:delete"))
):
    key_pairs.delete(ctxt, key_pair_id)
