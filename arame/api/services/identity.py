"""Accounts and users. An admin manages them all; members and readers see
their own account and its users; anyone may change their own password.
A change of password, role or enabled revokes the user's tokens."""

import sqlalchemy as sa

from arame.api import pagination
from arame.api.auth import events as auth_events
from arame.api.lookup import load_owned
from arame.common import exceptions, ids
from arame.common.db import engine as db_engine
from arame.common.db import models, seed
from arame.common.passwords import hash_password


def account_dict(a: models.Account) -> dict:
    return {
        "id": a.id,
        "name": a.name,
        "enabled": a.enabled,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def user_dict(u: models.User) -> dict:
    return {
        "id": u.id,
        "username": u.username,
        "account_id": u.account_id,
        "role": u.role,
        "enabled": u.enabled,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
    }


def _account(s, ctxt, account_id: str, rule: str) -> models.Account:
    # Checked before the query, as load_owned does for generated ids:
    # MariaDB's case-insensitive collation would let "A-ADMIN" find
    # "a-admin", and any other string names no account.
    if account_id != seed.ADMIN_ACCOUNT and not ids.is_valid(
        "account", account_id
    ):
        raise exceptions.NotFound(f"account {account_id} not found")
    return load_owned(s, ctxt, models.Account, "account", account_id, rule)


def _user(s, ctxt, user_id: str, rule: str) -> models.User:
    return load_owned(s, ctxt, models.User, "user", user_id, rule)


# -- accounts ------------------------------------------------------------
def create_account(ctxt, req) -> dict:
    with db_engine.session() as s:
        if s.scalar(
            sa.select(models.Account.id).where(models.Account.name == req.name)
        ):
            raise exceptions.Conflict(f"account {req.name!r} already exists")
        acc = models.Account(id=ids.generate("account"), name=req.name)
        s.add(acc)
    return account_dict(acc)


def list_accounts(
    ctxt, *, name=None, limit=None, marker=None, sort=None
) -> dict:
    A = models.Account
    return pagination.scoped_page(
        ctxt,
        sa.select(A).where(A.deleted_at.is_(None)),
        A,
        account_dict,
        account_column=A.id,
        name_column=A.name,
        name=name,
        marker=marker,
        limit=limit,
        sort=sort,
    )


def get_account(ctxt, account_id: str) -> dict:
    with db_engine.session() as s:
        return account_dict(_account(s, ctxt, account_id, "accounts:get"))


def update_account(ctxt, account_id: str, req) -> dict:
    with db_engine.session() as s:
        acc = _account(s, ctxt, account_id, "accounts:update")
        if req.name is not None and req.name != acc.name:
            if s.scalar(
                sa.select(models.Account.id).where(
                    models.Account.name == req.name
                )
            ):
                raise exceptions.Conflict(
                    f"account {req.name!r} already exists"
                )
            acc.name = req.name
        if req.enabled is not None:
            if acc.id == ctxt.account_id and not req.enabled:
                raise exceptions.Conflict(
                    "you cannot disable your own account"
                )
            if acc.enabled != req.enabled:
                auth_events.account_changed(s, acc.id)
            acc.enabled = req.enabled
        s.flush()
        return account_dict(acc)


def delete_account(ctxt, account_id: str) -> None:
    with db_engine.session() as s:
        acc = _account(s, ctxt, account_id, "accounts:delete")
        if acc.id == ctxt.account_id:
            raise exceptions.Conflict("you cannot delete your own account")
        live = s.scalar(
            sa.select(sa.func.count(models.Instance.id)).where(
                models.Instance.account_id == acc.id,
                models.Instance.status != "terminated",
            )
        )
        users = s.scalar(
            sa.select(sa.func.count(models.User.id)).where(
                models.User.account_id == acc.id
            )
        )
        if live or users:
            raise exceptions.Conflict(
                f"account {account_id} still has {live} instance(s) and "
                f"{users} user(s); delete them first (or disable the account)",
                instances=live,
                users=users,
            )
        # Kept for the history that points at it; its name is freed ("~" is
        # not allowed in names, so it cannot clash with a live one).
        acc.deleted_at = models.utcnow()
        acc.enabled = False
        auth_events.account_changed(s, acc.id)
        acc.name = f"{acc.name[:45]}~{acc.id}"


# -- users ---------------------------------------------------------------
def create_user(ctxt, req) -> dict:
    with db_engine.session() as s:
        _account(s, ctxt, req.account_id, "users:create")
        if s.scalar(
            sa.select(models.User.id).where(
                models.User.username == req.username
            )
        ):
            raise exceptions.Conflict(f"user {req.username!r} already exists")
        user = models.User(
            id=ids.generate("user"),
            username=req.username,
            password_hash=hash_password(req.password),
            account_id=req.account_id,
            role=req.role,
        )
        s.add(user)
    return user_dict(user)


def list_users(
    ctxt, *, account_id=None, name=None, limit=None, marker=None, sort=None
):
    U = models.User
    stmt = sa.select(U)
    if account_id:
        stmt = stmt.where(U.account_id == account_id)
    return pagination.scoped_page(
        ctxt,
        stmt,
        U,
        user_dict,
        account_column=U.account_id,
        name_column=U.username,
        name=name,
        marker=marker,
        limit=limit,
        sort=sort,
        columns={"name": U.username},
    )


def get_user(ctxt, user_id: str) -> dict:
    with db_engine.session() as s:
        return user_dict(_user(s, ctxt, user_id, "users:get"))


def update_user(ctxt, user_id: str, req) -> dict:
    with db_engine.session() as s:
        own = user_id == ctxt.user_id
        user = _user(
            s,
            ctxt,
            user_id,
            "users:update_own_password"
            if own and req.role is None and req.enabled is None
            else "users:update",
        )
        if own and (
            req.enabled is False or (req.role and req.role != user.role)
        ):
            raise exceptions.Conflict(
                "you cannot disable yourself or change your own role"
            )
        changed = False
        if req.password is not None:
            user.password_hash = hash_password(req.password)
            changed = True
        if req.role is not None and req.role != user.role:
            user.role, changed = req.role, True
        if req.enabled is not None and req.enabled != user.enabled:
            user.enabled, changed = req.enabled, True
        if changed:
            user.token_generation += 1  # every earlier token stops working
            auth_events.user_changed(s, user.id)
        s.flush()
        return user_dict(user)


def delete_user(ctxt, user_id: str) -> None:
    with db_engine.session() as s:
        user = _user(s, ctxt, user_id, "users:delete")
        if user.id == ctxt.user_id:
            raise exceptions.Conflict("you cannot delete yourself")
        s.delete(user)
        auth_events.user_changed(s, user.id)
