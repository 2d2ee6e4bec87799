"""Bearer tokens: signed, expiring, tied to the user's token generation."""

import time

import pytest

from arame.api.auth import tokens
from arame.common import exceptions
from arame.common.db import engine, models


@pytest.fixture
def user(cloud, auth_state):
    with engine.session() as s:
        return s.get(models.User, cloud.admin_id)


def test_round_trip(user):
    token, exp = tokens.issue(user)
    claims = tokens.verify(token)
    assert claims["u"] == user.id
    assert claims["a"] == "a-admin"
    assert claims["r"] == ["admin"]
    assert claims["g"] == 0
    assert claims["exp"] == exp


def test_ttl_comes_from_config(user, config):
    config("token_ttl", 120, group="auth")
    _, exp = tokens.issue(user)
    assert 110 <= exp - time.time() <= 121


def test_tampered_claims_are_refused(user):
    import base64
    import json

    token, _ = tokens.issue(user)
    body, sig = token.split(".")
    claims = json.loads(
        base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    )
    claims["r"] = ["admin"]
    claims["a"] = "a-victim00"
    forged = (
        base64.urlsafe_b64encode(
            json.dumps(claims, separators=(",", ":")).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    with pytest.raises(exceptions.Unauthorized):
        tokens.verify(f"{forged}.{sig}")


def test_tampered_signature_is_refused(user):
    token, _ = tokens.issue(user)
    body, sig = token.split(".")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    with pytest.raises(exceptions.Unauthorized):
        tokens.verify(f"{body}.{flipped}")


@pytest.mark.parametrize(
    "garbage", ["", "abc", "a.b.c", "....", "é.é", "eyJ1IjoieCJ9.", ".sig"]
)
def test_garbage_is_refused(user, garbage):
    with pytest.raises(exceptions.Unauthorized):
        tokens.verify(garbage)


def test_expired_token_is_refused(user):
    token, _ = tokens.issue(user, ttl=-5)
    with pytest.raises(exceptions.Unauthorized) as exc:
        tokens.verify(token)
    assert exc.value.message == "token expired"


def test_token_signed_with_another_key_is_refused(user, config):
    config("token_secret", "key-one", group="auth")
    token, _ = tokens.issue(user)
    config("token_secret", "key-two", group="auth")
    with pytest.raises(exceptions.Unauthorized):
        tokens.verify(token)
    config("token_secret", "key-one", group="auth")
    assert tokens.verify(token)["u"] == user.id


def test_generated_key_is_kept_in_the_database_and_shared(user):
    token, _ = tokens.issue(user)
    with engine.session() as s:
        stored = s.get(models.Setting, "token_secret")
    assert stored is not None and len(stored.value) == 64
    # Another API process (a fresh cache) checks with the same key.
    tokens.reset_cache()
    assert tokens.verify(token)["u"] == user.id
