"""Reading and setting an account's quotas (enforcement: common/quotas.py)."""

from arame.api import policy
from arame.common import exceptions, quotas
from arame.common.db import engine as db_engine
from arame.common.db import models


def _view(account_id: str, row: models.Quota | None) -> dict:
    return {"account_id": account_id, "limits": quotas.limits(row),
            "in_use": {r: (getattr(row, f"{r}_used") if row else 0)
                       for r in quotas.RESOURCES}}


def _account(s, ctxt, account_id: str, rule: str) -> None:
    acc = s.get(models.Account, account_id)
    if acc is None or acc.deleted_at is not None:
        raise exceptions.NotFound(f"account {account_id} not found")
    policy.enforce_owned(ctxt, rule, account_id, f"account {account_id}")


def get(ctxt, account_id: str) -> dict:
    with db_engine.session() as s:
        _account(s, ctxt, account_id, "quotas:get")
        return _view(account_id, s.get(models.Quota, account_id))


def update(ctxt, account_id: str, req) -> dict:
    with db_engine.session() as s:
        _account(s, ctxt, account_id, "quotas:update")
        row = s.get(models.Quota, account_id)
        if row is None:
            row = models.Quota(account_id=account_id)
            s.add(row)
        for r in req.model_fields_set:
            setattr(row, r, getattr(req, r))
        s.flush()
        # Lowering a limit below what is in use is allowed: nothing running
        # is touched, new requests are refused until usage falls under it.
        return _view(account_id, row)
