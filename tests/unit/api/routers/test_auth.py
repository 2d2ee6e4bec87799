"""Login, and the token every other request carries."""

import pytest
import sqlalchemy as sa

from arame.api.auth import tokens
from arame.common.db import engine, models


def test_login_returns_a_token_the_api_accepts(client, cloud):
    r = client.post(
        "/v1/auth/tokens",
        json={"username": "admin", "password": cloud.admin_password},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["account_id"] == "a-admin"
    assert body["roles"] == ["admin"]
    assert body["user"] == {
        "id": cloud.admin_id,
        "username": "admin",
        "account_id": "a-admin",
        "role": "admin",
    }
    assert body["expires_at"].endswith(("Z", "+00:00"))
    assert "password" not in r.text and "hash" not in r.text
    r = client.get(
        "/v1/instances", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert r.status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_401(client, error_of):
    wrong = client.post(
        "/v1/auth/tokens", json={"username": "admin", "password": "nope"}
    )
    unknown = client.post(
        "/v1/auth/tokens", json={"username": "nobody", "password": "nope"}
    )
    e1 = error_of(wrong, 401, "unauthorized")
    e2 = error_of(unknown, 401, "unauthorized")
    assert e1 == e2
    assert e1["message"] == "wrong username or password"


def test_disabled_user_cannot_log_in(client, make_user, error_of):
    user = make_user("member")
    with engine.session() as s:
        s.get(models.User, user.user_id).enabled = False
    r = client.post(
        "/v1/auth/tokens",
        json={"username": user.username, "password": "pw-123456"},
    )
    assert error_of(r, 401)["message"] == "wrong username or password"


def test_user_of_a_disabled_account_cannot_log_in(client, make_user, error_of):
    user = make_user("member")
    with engine.session() as s:
        s.get(models.Account, user.account_id).enabled = False
    r = client.post(
        "/v1/auth/tokens",
        json={"username": user.username, "password": "pw-123456"},
    )
    error_of(r, 401)


@pytest.mark.parametrize(
    "body",
    [
        {"username": "admin"},
        {"password": "x"},
        {"username": "", "password": "x"},
        {"username": "admin", "password": "x", "extra": 1},
    ],
)
def test_malformed_login_is_422(client, error_of, body):
    error_of(client.post("/v1/auth/tokens", json=body), 422, "invalid")


def test_missing_token_is_401_with_the_error_shape(client, error_of):
    r = client.get("/v1/instances")
    err = error_of(r, 401, "unauthorized")
    assert "token" in err["message"]
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer a.b",
        "Bearer ",
        "Basic YWRtaW46eA==",
        "Bearer eyJ1IjoidS14In0.AAAA",
        "garbage",
    ],
)
def test_garbage_token_is_401(client, error_of, header):
    error_of(
        client.get("/v1/instances", headers={"Authorization": header}),
        401,
        "unauthorized",
    )


def test_expired_token_is_401(client, cloud, error_of):
    with engine.session() as s:
        user = s.get(models.User, cloud.admin_id)
    token, _ = tokens.issue(user, ttl=-1)
    r = client.get(
        "/v1/instances", headers={"Authorization": f"Bearer {token}"}
    )
    assert error_of(r, 401)["message"] == "token expired"


@pytest.fixture
def no_user_cache(config):
    """These tests change users in the database behind the API's back,
    which announces nothing: with the cache off it sees them at once (with
    it on, within [auth] user_cache_seconds: see the tests below)."""
    config("user_cache_seconds", 0, group="auth")


def test_revoked_user_gets_401(client, member, error_of, no_user_cache):
    assert (
        client.get("/v1/instances", headers=member.headers).status_code == 200
    )
    with engine.session() as s:
        s.execute(
            sa.update(models.User)
            .where(models.User.id == member.user_id)
            .values(token_generation=models.User.token_generation + 1)
        )
    r = client.get("/v1/instances", headers=member.headers)
    assert error_of(r, 401)["message"] == "token revoked"


def test_disabled_user_loses_access_at_once(
    client, member, error_of, no_user_cache
):
    with engine.session() as s:
        s.get(models.User, member.user_id).enabled = False
    error_of(client.get("/v1/instances", headers=member.headers), 401)


def test_deleted_user_token_is_401(client, member, error_of, no_user_cache):
    with engine.session() as s:
        s.execute(
            sa.delete(models.User).where(models.User.id == member.user_id)
        )
    error_of(client.get("/v1/instances", headers=member.headers), 401)


def test_role_comes_from_the_database_not_the_token(client, member, create):
    # Demoted to reader after login: the old token may no longer write.
    with engine.session() as s:
        s.get(models.User, member.user_id).role = "reader"
    assert create(member).status_code == 403


def test_disabled_account_loses_access_at_once(client, member, error_of):
    with engine.session() as s:
        s.get(models.Account, member.account_id).enabled = False
    error_of(client.get("/v1/instances", headers=member.headers), 401)


# -- the user cache ----------------------------------------------------------


def test_a_password_change_voids_old_tokens_at_once_despite_the_cache(
    client, make_user, error_of
):
    """The check of a token reads the user from the cache; a change made
    through the API drops it at its commit, so the old token fails on the
    very next request."""
    user = make_user("member")
    assert client.get("/v1/instances", headers=user.headers).status_code == 200
    r = client.patch(
        f"/v1/users/{user.user_id}",
        json={"password": "pw-new-654321"},
        headers=user.headers,
    )
    assert r.status_code == 200, r.text
    error_of(client.get("/v1/instances", headers=user.headers), 401)


def test_disabling_an_account_voids_its_users_tokens_at_once(
    client, admin, make_user, error_of
):
    user = make_user("member")
    assert client.get("/v1/instances", headers=user.headers).status_code == 200
    r = client.patch(
        f"/v1/accounts/{user.account_id}",
        json={"enabled": False},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    error_of(client.get("/v1/instances", headers=user.headers), 401)


def test_another_api_process_drops_the_user_when_told(
    client, member, error_of
):
    """A change made by another API process reaches this one as a cast on
    the bus (api_auth, fanout): its endpoint drops the cached user."""
    from arame.api.auth import events

    assert (
        client.get("/v1/instances", headers=member.headers).status_code == 200
    )
    with engine.session() as s:
        s.get(models.User, member.user_id).enabled = False
    # Not told yet: the cached row still answers.
    assert (
        client.get("/v1/instances", headers=member.headers).status_code == 200
    )
    events.AuthEventsEndpoint().user_changed({}, member.user_id)
    error_of(client.get("/v1/instances", headers=member.headers), 401)


def test_a_change_nobody_announced_is_seen_within_the_cache_bound(
    client, member, error_of, config
):
    from tests.helpers.waiting import wait_until

    config("user_cache_seconds", 0.3, group="auth")
    assert (
        client.get("/v1/instances", headers=member.headers).status_code == 200
    )
    with engine.session() as s:
        s.get(models.User, member.user_id).enabled = False
    wait_until(
        lambda: (
            client.get("/v1/instances", headers=member.headers).status_code
            == 401
        ),
        timeout=10,
        what="the disabled user refused",
    )


def test_a_read_from_before_an_invalidation_is_not_kept():
    """A request that read the row before a revocation's invalidation must
    not put that stale row back after it."""
    from arame.api.auth import user_cache

    cache = user_cache.UserCache()
    stale = user_cache.UserRow("a-x", "member", True, 0, True)
    fresh = user_cache.UserRow("a-x", "member", True, 1, True)

    def slow_read(uid):
        cache.invalidate_user(uid)  # the revocation commits meanwhile
        return stale

    assert cache.lookup("u-x", slow_read) is stale
    assert cache.lookup("u-x", lambda uid: fresh) is fresh
