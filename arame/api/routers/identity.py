from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from arame.api import errors, pagination
from arame.api.auth.deps import authorize, get_context
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.identity import (
    Account,
    AccountCreate,
    AccountPage,
    AccountUpdate,
    User,
    UserCreate,
    UserPage,
    UserUpdate,
)
from arame.api.services import identity

accounts = APIRouter(
    route_class=RetryingRoute, prefix="/v1/accounts", tags=["accounts"]
)
users = APIRouter(
    route_class=RetryingRoute, prefix="/v1/users", tags=["users"]
)

Limit = Annotated[int | None, Query(ge=1, le=1000)]
Marker = Annotated[str | None, Query(max_length=16)]
NamePattern = Annotated[str | None, Query(max_length=63)]
AccountSort = pagination.sort_query("name", "created_at", "updated_at")
UserSort = pagination.sort_query("name", "role", "created_at", "updated_at")


@accounts.post("", status_code=201, response_model=Account)
def create_account(
    body: AccountCreate, ctxt=Depends(authorize("accounts:create"))
):
    return identity.create_account(ctxt, body)


@accounts.get("", response_model=AccountPage, responses=errors.UNKNOWN_MARKER)
def list_accounts(
    ctxt=Depends(authorize("accounts:list")),
    name: NamePattern = None,
    limit: Limit = None,
    marker: Marker = None,
    sort: AccountSort = None,
):
    return identity.list_accounts(
        ctxt, name=name, limit=limit, marker=marker, sort=sort
    )


@accounts.get("/{account_id}", response_model=Account)
def get_account(account_id: str, ctxt=Depends(get_context)):
    return identity.get_account(ctxt, account_id)


@accounts.patch("/{account_id}", response_model=Account)
def update_account(
    account_id: str, body: AccountUpdate, ctxt=Depends(get_context)
):
    return identity.update_account(ctxt, account_id, body)


@accounts.delete("/{account_id}", status_code=204, response_class=Response)
def delete_account(account_id: str, ctxt=Depends(get_context)):
    identity.delete_account(ctxt, account_id)


@users.post("", status_code=201, response_model=User)
def create_user(body: UserCreate, ctxt=Depends(authorize("users:create"))):
    return identity.create_user(ctxt, body)


@users.get("", response_model=UserPage, responses=errors.UNKNOWN_MARKER)
def list_users(
    ctxt=Depends(authorize("users:list")),
    account_id: Annotated[str | None, Query(max_length=16)] = None,
    name: NamePattern = None,
    limit: Limit = None,
    marker: Marker = None,
    sort: UserSort = None,
):
    """`name` filters and sorts by username."""
    return identity.list_users(
        ctxt,
        account_id=account_id,
        name=name,
        limit=limit,
        marker=marker,
        sort=sort,
    )


@users.get("/{user_id}", response_model=User)
def get_user(user_id: str, ctxt=Depends(get_context)):
    return identity.get_user(ctxt, user_id)


@users.patch("/{user_id}", response_model=User)
def update_user(user_id: str, body: UserUpdate, ctxt=Depends(get_context)):
    return identity.update_user(ctxt, user_id, body)


@users.delete("/{user_id}", status_code=204, response_class=Response)
def delete_user(user_id: str, ctxt=Depends(get_context)):
    identity.delete_user(ctxt, user_id)
