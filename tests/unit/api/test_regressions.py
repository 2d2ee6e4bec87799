"""Requests schemathesis found answered with a 5xx, kept as plain tests."""

from tests.unit.api.conftest import assert_error


def test_null_name_in_an_update_is_not_given(client, admin, make_user):
    acct = make_user("member").account_id
    r = client.patch(
        f"/v1/accounts/{acct}",
        headers=admin.headers,
        json={"enabled": True, "name": None},
    )
    assert r.status_code == 200, r.text


def test_account_ids_are_matched_exactly(client, admin):
    for bad in ("A-ADMIN", "\u009a\u0094_r", "a-admin0000x"):
        assert_error(
            client.get(f"/v1/accounts/{bad}", headers=admin.headers),
            404,
            "not_found",
        )
