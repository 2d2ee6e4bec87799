"""FastAPI dependencies: the caller's context from its bearer token, and the
policy check every route declares.

Both are coroutines: FastAPI runs a plain function dependency in its
thread pool, and two thread hops per request (the context, then the
check) cost the API more CPU than the checks themselves. What may block
(the user's row or the token secret not yet cached) still runs in the
pool."""

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from arame.api import policy
from arame.api.auth import tokens, user_cache
from arame.common import exceptions
from arame.common.context import RequestContext
from arame.common.db import engine as db_engine
from arame.common.db import models

_bearer = HTTPBearer(auto_error=False)


async def get_context(
    request: Request,
    creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> RequestContext:
    if creds is None or creds.scheme.lower() != "bearer":
        raise exceptions.Unauthorized("missing bearer token")
    if tokens.secret_at_hand():
        claims = tokens.verify(creds.credentials)
    else:
        claims = await run_in_threadpool(tokens.verify, creds.credentials)
    row = user_cache.CACHE.cached(claims["u"])
    if row is None:
        row = await run_in_threadpool(
            user_cache.CACHE.lookup, claims["u"], _read_user
        )
    if (
        row is None
        or not row.enabled
        or not row.account_enabled
        or row.token_generation != claims.get("g")
    ):
        raise exceptions.Unauthorized("token revoked")
    roles = (row.role,)
    account_id = row.account_id
    return RequestContext(
        request_id=getattr(request.state, "request_id", None)
        or RequestContext().request_id,
        account_id=account_id,
        user_id=claims["u"],
        roles=roles,
    )


def _read_user(user_id: str) -> user_cache.UserRow | None:
    U, A = models.User, models.Account
    with db_engine.session() as s:
        row = s.execute(
            sa.select(
                U.account_id,
                U.role,
                U.enabled,
                U.token_generation,
                A.enabled.label("account_enabled"),
            )
            .join(A, A.id == U.account_id)
            .where(U.id == user_id)
        ).first()
    return None if row is None else user_cache.UserRow(**row._asdict())


def authorize(rule: str):
    """A dependency that checks `rule` against the caller's own account and
    returns the context (resource-level checks follow in the service)."""

    async def _dep(
        ctxt: RequestContext = Depends(get_context),
    ) -> RequestContext:
        policy.enforce(ctxt, rule)
        return ctxt

    return _dep
