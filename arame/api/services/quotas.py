"""Reading and setting an account's quotas (enforcement: common/quotas.py)."""

from arame.api.lookup import load_owned
from arame.common import quotas
from arame.common.db import engine as db_engine
from arame.common.db import models


def _view(account_id: str, row: models.Quota | None) -> dict:
    return {
        "account_id": account_id,
        "limits": quotas.limits(row),
        "in_use": {
            r: (getattr(row, f"{r}_used") if row else 0)
            for r in quotas.RESOURCES
        },
    }


def get(ctxt, account_id: str) -> dict:
    with db_engine.session() as s:
        load_owned(
            s, ctxt, models.Account, "account", account_id, "quotas:get"
        )
        return _view(account_id, s.get(models.Quota, account_id))


def update(ctxt, account_id: str, req) -> dict:
    with db_engine.session() as s:
        load_owned(
            s, ctxt, models.Account, "account", account_id, "quotas:update"
        )
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
