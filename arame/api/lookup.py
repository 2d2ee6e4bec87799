"""Loading the one resource a request names.

A malformed id, a missing row, a deleted row and another account's row are
all the same 404 (never a hint that it exists); then the caller's role must
pass `rule` on it.
"""

from arame.api import policy
from arame.common import exceptions, ids


def load_owned(s, ctxt, model, kind: str, obj_id: str, rule: str):
    what = f"{kind.replace('_', ' ')} {obj_id}"
    # Generated ids are checked before the query (MySQL's case-insensitive
    # collation would let "I-ABCD1234" find "i-abcd1234"); account ids
    # include the bootstrap "a-admin", outside that format.
    if kind != "account" and not ids.is_valid(kind, obj_id):
        row = None
    else:
        row = s.get(model, obj_id)
    if row is None or getattr(row, "deleted_at", None) is not None:
        raise exceptions.NotFound(f"{what} not found")
    account = row.id if kind == "account" else row.account_id
    policy.enforce_owned(ctxt, rule, account, what)
    return row
