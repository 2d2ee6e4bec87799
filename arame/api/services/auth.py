"""Login: username + password -> a signed token."""

import datetime as dt

import sqlalchemy as sa

from arame.api.auth import tokens
from arame.common import exceptions, passwords
from arame.common.db import engine as db_engine
from arame.common.db import models

# Verified against when the user does not exist, so that an unknown name
# costs the same time as a wrong password.
_DUMMY_HASH = passwords.hash_password("not-a-password")


def login(username: str, password: str) -> dict:
    with db_engine.session() as s:
        user = s.scalar(
            sa.select(models.User).where(models.User.username == username)
        )
        account = s.get(models.Account, user.account_id) if user else None
    # The same answer, in the same time, for an unknown user and a wrong
    # password.
    ok = passwords.verify_password(
        password, user.password_hash if user else _DUMMY_HASH
    )
    if (
        not ok
        or user is None
        or not user.enabled
        or account is None
        or not account.enabled
    ):
        raise exceptions.Unauthorized("wrong username or password")
    token, exp = tokens.issue(user)
    return {
        "token": token,
        "expires_at": dt.datetime.fromtimestamp(exp, dt.UTC),
        "user": {
            "id": user.id,
            "username": user.username,
            "account_id": user.account_id,
            "role": user.role,
        },
        "account_id": user.account_id,
        "roles": [user.role],
    }
