"""Accounts and users: the admin manages them, members and readers see their
own, anyone changes their own password, and changes revoke tokens."""

from tests.unit.api.conftest import assert_error, login


def test_admin_creates_account_and_user_who_can_log_in(client, admin):
    r = client.post(
        "/v1/accounts", headers=admin.headers, json={"name": "acme"}
    )
    assert r.status_code == 201
    acc = r.json()
    assert acc["id"].startswith("a-") and acc["enabled"] is True
    r = client.post(
        "/v1/users",
        headers=admin.headers,
        json={
            "username": "ann",
            "password": "pw-ann-123",
            "account_id": acc["id"],
            "role": "member",
        },
    )
    assert r.status_code == 201
    user = r.json()
    assert "password" not in user and "password_hash" not in user
    h = login(client, "ann", "pw-ann-123")
    me = client.get(f"/v1/accounts/{acc['id']}", headers=h)
    assert me.status_code == 200 and me.json()["name"] == "acme"


def test_duplicates_and_bad_names_are_refused(client, admin):
    client.post("/v1/accounts", headers=admin.headers, json={"name": "dup"})
    assert_error(
        client.post(
            "/v1/accounts", headers=admin.headers, json={"name": "dup"}
        ),
        409,
        "conflict",
    )
    for bad in ("", "a;b", "x" * 64, "a..b", " lead"):
        assert_error(
            client.post(
                "/v1/accounts", headers=admin.headers, json={"name": bad}
            ),
            422,
            "invalid",
        )
    assert_error(
        client.post(
            "/v1/users",
            headers=admin.headers,
            json={
                "username": "short",
                "password": "1234567",
                "account_id": "a-admin",
            },
        ),
        422,
        "invalid",
    )
    assert_error(
        client.post(
            "/v1/users",
            headers=admin.headers,
            json={
                "username": "ghost",
                "password": "12345678",
                "account_id": "a-zzzzzzzz",
            },
        ),
        404,
        "not_found",
    )


def test_members_see_only_their_own_account_and_users(
    client, admin, make_user
):
    alice = make_user("member")
    bob = make_user("member")
    accs = client.get("/v1/accounts", headers=alice.headers).json()["items"]
    assert [a["id"] for a in accs] == [alice.account_id]
    users = client.get("/v1/users", headers=alice.headers).json()["items"]
    assert {u["account_id"] for u in users} == {alice.account_id}
    assert_error(
        client.get(f"/v1/accounts/{bob.account_id}", headers=alice.headers),
        404,
    )
    assert_error(
        client.get(f"/v1/users/{bob.user_id}", headers=alice.headers), 404
    )
    assert_error(
        client.post(
            "/v1/accounts", headers=alice.headers, json={"name": "mine"}
        ),
        403,
        "forbidden",
    )
    assert_error(
        client.post(
            "/v1/users",
            headers=alice.headers,
            json={
                "username": "sneaky",
                "password": "12345678",
                "account_id": alice.account_id,
                "role": "admin",
            },
        ),
        403,
    )
    # The admin sees everyone.
    all_accs = client.get("/v1/accounts", headers=admin.headers).json()[
        "items"
    ]
    assert {alice.account_id, bob.account_id, "a-admin"} <= {
        a["id"] for a in all_accs
    }


def test_own_password_change_revokes_old_tokens(client, make_user):
    u = make_user("reader")
    r = client.patch(
        f"/v1/users/{u.user_id}",
        headers=u.headers,
        json={"password": "new-password-1"},
    )
    assert r.status_code == 200
    assert_error(client.get("/v1/instances", headers=u.headers), 401)
    h = login(client, u.username, "new-password-1")
    assert client.get("/v1/instances", headers=h).status_code == 200
    # ... but not their own role.
    assert_error(
        client.patch(
            f"/v1/users/{u.user_id}", headers=h, json={"role": "admin"}
        ),
        403,
    )


def test_admin_disables_user_and_account(client, admin, make_user):
    u = make_user("member")
    r = client.patch(
        f"/v1/users/{u.user_id}",
        headers=admin.headers,
        json={"enabled": False},
    )
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert_error(client.get("/v1/instances", headers=u.headers), 401)

    v = make_user("member")
    r = client.patch(
        f"/v1/accounts/{v.account_id}",
        headers=admin.headers,
        json={"enabled": False},
    )
    assert r.status_code == 200
    assert_error(client.get("/v1/instances", headers=v.headers), 401)
    assert_error(
        client.post(
            "/v1/auth/tokens",
            json={"username": v.username, "password": "pw-123456"},
        ),
        401,
    )


def test_delete_account_needs_it_empty(client, admin, make_user):
    u = make_user("member")
    assert_error(
        client.delete(f"/v1/accounts/{u.account_id}", headers=admin.headers),
        409,
        "conflict",
    )
    assert (
        client.delete(
            f"/v1/users/{u.user_id}", headers=admin.headers
        ).status_code
        == 204
    )
    assert (
        client.delete(
            f"/v1/accounts/{u.account_id}", headers=admin.headers
        ).status_code
        == 204
    )
    assert_error(
        client.get(f"/v1/accounts/{u.account_id}", headers=admin.headers), 404
    )


def test_admin_cannot_lock_itself_out(client, admin):
    assert_error(
        client.delete(f"/v1/users/{admin.user_id}", headers=admin.headers), 409
    )
    assert_error(
        client.patch(
            "/v1/accounts/a-admin",
            headers=admin.headers,
            json={"enabled": False},
        ),
        409,
    )
    assert_error(
        client.delete("/v1/accounts/a-admin", headers=admin.headers), 409
    )


def test_deleted_account_frees_its_name_and_disappears(client, admin):
    acc = client.post(
        "/v1/accounts", headers=admin.headers, json={"name": "phoenix"}
    ).json()
    assert (
        client.delete(
            f"/v1/accounts/{acc['id']}", headers=admin.headers
        ).status_code
        == 204
    )
    listed = client.get("/v1/accounts", headers=admin.headers).json()["items"]
    assert acc["id"] not in [a["id"] for a in listed]
    again = client.post(
        "/v1/accounts", headers=admin.headers, json={"name": "phoenix"}
    )
    assert again.status_code == 201 and again.json()["id"] != acc["id"]
    assert_error(
        client.post(
            "/v1/users",
            headers=admin.headers,
            json={
                "username": "ghost",
                "password": "12345678",
                "account_id": acc["id"],
            },
        ),
        404,
    )
