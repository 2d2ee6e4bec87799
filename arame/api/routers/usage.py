import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from arame.api import errors, pagination
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.common import QueryDateTime
from arame.api.schemas.usage import UsagePage
from arame.api.services import usage

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/usage", tags=["usage"]
)


@router.get("", response_model=UsagePage, responses=errors.UNKNOWN_MARKER)
def list_usage(
    ctxt=Depends(authorize("usage:list")),
    account_id: Annotated[str | None, Query(max_length=16)] = None,
    start: QueryDateTime | None = None,
    end: QueryDateTime | None = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    marker: Annotated[int | None, Query(ge=0)] = None,
    sort: pagination.sort_query("id", "at") = None,
):
    """In append order (`id`) unless `sort` says otherwise."""

    def naive(t):
        return (
            t.astimezone(dt.UTC).replace(tzinfo=None)
            if t is not None and t.tzinfo
            else t
        )

    return usage.list_usage(
        ctxt,
        account_id=account_id,
        start=naive(start),
        end=naive(end),
        limit=limit,
        marker=marker,
        sort=sort,
    )
