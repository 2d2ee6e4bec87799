"""Bearer tokens: a signed, expiring claim set (HMAC-SHA256).

A token names the user, account, roles and the user's token generation;
bumping the generation (disable, password change, revoke) voids every token
issued before, because each request checks it against the user's row.
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time

import sqlalchemy as sa

from arame.common import exceptions
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

_SECRET_KEY = "token_secret"
_cache_lock = threading.Lock()
_cached_secret: bytes | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secret() -> bytes:
    """The configured key, else the cloud's generated one from the database
    (so that every API process signs and checks with the same key)."""
    global _cached_secret
    if CONF.auth.token_secret:
        return CONF.auth.token_secret.encode()
    with _cache_lock:
        if _cached_secret is None:
            _cached_secret = _load_or_create_secret().encode()
        return _cached_secret


def _load_or_create_secret() -> str:
    try:
        with db_engine.session() as s:
            row = s.get(models.Setting, _SECRET_KEY)
            if row is not None:
                return row.value
            value = secrets.token_hex(32)
            s.add(models.Setting(key=_SECRET_KEY, value=value))
        return value
    except sa.exc.IntegrityError:
        # Another API process created it first: use theirs.
        with db_engine.session() as s:
            return s.get(models.Setting, _SECRET_KEY).value


def secret_at_hand() -> bool:
    """Whether verify() can run without a database read (the secret is
    configured or already loaded): the request's event loop may run it."""
    return bool(CONF.auth.token_secret) or _cached_secret is not None


def reset_cache() -> None:
    global _cached_secret
    with _cache_lock:
        _cached_secret = None


def issue(user: models.User, ttl: int | None = None) -> tuple[str, int]:
    exp = int(time.time()) + (ttl or CONF.auth.token_ttl)
    claims = {
        "u": user.id,
        "a": user.account_id,
        "r": [user.role],
        "g": user.token_generation,
        "exp": exp,
    }
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = _b64(hmac.new(_secret(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{sig}", exp


def verify(token: str) -> dict:
    """The claims of a valid, unexpired token; Unauthorized otherwise."""
    try:
        body, sig = token.split(".")
        expected = hmac.new(_secret(), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_unb64(sig), expected):
            raise ValueError("bad signature")
        claims = json.loads(_unb64(body))
    except (ValueError, TypeError):
        raise exceptions.Unauthorized("invalid token") from None
    if claims.get("exp", 0) < time.time():
        raise exceptions.Unauthorized("token expired")
    return claims
