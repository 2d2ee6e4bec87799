"""`Idempotency-Key` on POST: the same key within 24 h returns the first
answer and does nothing twice (doc/source/architecture/rest.rst).

The key is reserved by inserting its row before the work starts (the primary
key makes two concurrent first requests impossible); the answer is stored
after. A failed first attempt frees the key so that a retry can succeed.

The reservation commits, so api/db_retry.py no longer runs the request
again: the work itself is run again here when it met a transient database
failure (a failover) before it committed anything, and the answer's
UPDATE and the key's release, each idempotent, run again until the
database answers. Work that failed after it committed keeps its key
reserved: the client's retry is told the request is in progress rather
than doing it twice.
"""

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from arame.common import exceptions
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.common.db import retry as db_retry

TTL = dt.timedelta(hours=24)
MAX_KEY = 255


def fingerprint(method: str, path: str, body) -> str:
    raw = json.dumps([method, path, jsonable_encoder(body)], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def run(
    ctxt, key: str | None, fp: str, status: int, fn, model=None
) -> JSONResponse:
    """Answer `fn()` (shaped by the route's response `model`), once per key."""

    def produce():
        out = fn()
        return (
            model.model_validate(out).model_dump(mode="json")
            if model is not None
            else jsonable_encoder(out)
        )

    if key is None:
        return JSONResponse(status_code=status, content=produce())
    if not key or len(key) > MAX_KEY:
        raise exceptions.BadRequest(
            f"Idempotency-Key must be 1-{MAX_KEY} characters"
        )
    K = models.IdempotencyKey
    now = models.utcnow()
    try:
        with db_engine.session() as s:
            s.execute(
                sa.delete(K).where(
                    K.account_id == ctxt.account_id,
                    K.key == key,
                    K.created_at < now - TTL,
                )
            )
            s.add(
                K(
                    account_id=ctxt.account_id,
                    key=key,
                    request_hash=fp,
                    created_at=now,
                )
            )
    except sa.exc.IntegrityError:
        with db_engine.session() as s:
            row = s.get(K, (ctxt.account_id, key))
        if row is None:
            raise exceptions.Conflict(
                "a request with this Idempotency-Key just failed; retry"
            ) from None
        if row.request_hash != fp:
            raise exceptions.Invalid(
                "this Idempotency-Key was used for a different request"
            ) from None
        if row.status_code is None:
            raise exceptions.Conflict(
                "a request with this Idempotency-Key is still in progress"
            ) from None
        return JSONResponse(
            status_code=row.status_code,
            content=json.loads(row.body),
            headers={"Idempotent-Replayed": "true"},
        )
    before = db_retry.commits()

    def done_in_part() -> bool:
        # Outside a RetryingRoute nothing counts commits: never again.
        return not db_retry.counting() or db_retry.commits() != before

    try:
        for attempt in db_retry.retrying(unless=done_in_part):
            with attempt:
                content = produce()
    except BaseException:
        if not db_retry.counting() or db_retry.commits() == before:
            db_retry.transaction(
                lambda s: s.execute(
                    sa.delete(K).where(
                        K.account_id == ctxt.account_id, K.key == key
                    )
                )
            )
        raise
    db_retry.transaction(
        lambda s: s.execute(
            sa.update(K)
            .where(K.account_id == ctxt.account_id, K.key == key)
            .values(status_code=status, body=json.dumps(content))
        )
    )
    return JSONResponse(status_code=status, content=content)
