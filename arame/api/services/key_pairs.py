"""Key pairs: import a public key, or generate a pair and hand the private
key back once."""

import sqlalchemy as sa

from arame.api import pagination
from arame.api.lookup import load_owned
from arame.api.services import names
from arame.common import exceptions, ids, sshkeys
from arame.common.db import engine as db_engine
from arame.common.db import models


def to_dict(kp: models.KeyPair) -> dict:
    return {
        "id": kp.id,
        "name": kp.name,
        "account_id": kp.account_id,
        "type": kp.type,
        "public_key": kp.public_key,
        "fingerprint": kp.fingerprint,
        "created_at": kp.created_at,
        "updated_at": kp.updated_at,
    }


def create(ctxt, req) -> dict:
    private = None
    try:
        if req.public_key is not None:
            kind, public = sshkeys.parse_public_key(req.public_key)
        else:
            kind, public, private = sshkeys.generate(req.type)
    except sshkeys.InvalidKey as e:
        raise exceptions.Invalid(str(e), field="public_key") from e
    with db_engine.session() as s:
        if s.scalar(
            sa.select(models.KeyPair.id).where(
                models.KeyPair.account_id == ctxt.account_id,
                models.KeyPair.name == req.name,
            )
        ):
            raise exceptions.Conflict(f"key pair {req.name!r} already exists")
        kp = models.KeyPair(
            id=ids.generate("key_pair"),
            name=req.name,
            account_id=ctxt.account_id,
            user_id=ctxt.user_id,
            type=kind,
            public_key=public,
            fingerprint=sshkeys.fingerprint(public),
        )
        s.add(kp)
    out = to_dict(kp)
    out["private_key"] = private
    return out


def _get(s, ctxt, kp_id: str, rule: str) -> models.KeyPair:
    return load_owned(s, ctxt, models.KeyPair, "key_pair", kp_id, rule)


def get(ctxt, kp_id: str) -> dict:
    with db_engine.session() as s:
        return to_dict(_get(s, ctxt, kp_id, "key_pairs:get"))


def list_key_pairs(
    ctxt, *, name=None, limit=None, marker=None, sort=None
) -> dict:
    K = models.KeyPair
    return pagination.scoped_page(
        ctxt,
        sa.select(K),
        K,
        to_dict,
        account_column=K.account_id,
        name_column=K.name,
        name=name,
        marker=marker,
        limit=limit,
        sort=sort,
    )


def delete(ctxt, kp_id: str) -> None:
    # Instances keep the key they booted with (it is on their config drive);
    # deleting the pair only stops new instances from getting it.
    with db_engine.session() as s:
        s.delete(_get(s, ctxt, kp_id, "key_pairs:delete"))


def public_key_for(
    s, account_id: str, kp_ref: str, field: str = "key_pair"
) -> models.KeyPair:
    """The key pair, by id or name, an instance of `account_id` asks for
    (422 otherwise)."""
    K = models.KeyPair
    return names.resolve(
        s,
        K,
        "key_pair",
        kp_ref,
        visible=K.account_id == account_id,
        field=field,
    )
