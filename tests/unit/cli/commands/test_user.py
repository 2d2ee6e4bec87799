import getpass

import pytest

USER = {
    "id": "u-abcd1234",
    "username": "alice",
    "account_id": "a-abcd1234",
    "role": "member",
    "enabled": True,
    "created_at": "2026-11-21T00:00:00Z",
    "updated_at": "2026-11-21T00:00:00Z",
}


def test_create_asks_the_password_twice(run, api, monkeypatch):
    answers = iter(["pw-secret-1", "pw-secret-1"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    api.add("POST", "/v1/users", (201, USER))
    result = run(
        "user",
        "create",
        "alice",
        "--account",
        "a-abcd1234",
        "--role",
        "reader",
        "-f",
        "json",
    )
    assert result.code == 0, result.stderr
    assert "password" not in result.stdout
    assert api.bodies("POST", "/v1/users") == [
        {
            "username": "alice",
            "password": "pw-secret-1",
            "account_id": "a-abcd1234",
            "role": "reader",
        }
    ]


def test_mismatched_passwords_create_nothing(run, api, monkeypatch):
    answers = iter(["pw-secret-1", "pw-secret-2"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    result = run("user", "create", "alice", "--account", "a-abcd1234")
    assert result.code != 0
    assert api.bodies("POST", "/v1/users") == []


def test_reset_password_from_the_environment(run, api, monkeypatch):
    monkeypatch.setenv("ARAME_NEW_PASSWORD", "pw-from-env")
    monkeypatch.setattr(getpass, "getpass", pytest.fail)
    api.add("PATCH", "/v1/users/u-abcd1234", (200, USER))
    result = run("user", "reset-password", "u-abcd1234", "-f", "json")
    assert result.code == 0, result.stderr
    assert api.bodies("PATCH", "/v1/users/u-abcd1234") == [
        {"password": "pw-from-env"}
    ]


def test_disable_enable_role(run, api):
    api.add("PATCH", "/v1/users/u-abcd1234", (200, USER))
    for argv in (("disable",), ("enable",), ("set", "--role", "admin")):
        cmd = ("user", argv[0], "u-abcd1234", *argv[1:], "-f", "json")
        assert run(*cmd).code == 0
    assert api.bodies("PATCH", "/v1/users/u-abcd1234") == [
        {"enabled": False},
        {"enabled": True},
        {"role": "admin"},
    ]


def test_list_filters_show_delete(run, api):
    api.add("GET", "/v1/users", (200, {"items": [USER], "next_marker": None}))
    api.add("GET", "/v1/users/u-abcd1234", (200, USER))
    api.add("DELETE", "/v1/users/u-abcd1234", (204, None))
    listed = run(
        "user",
        "list",
        "--account",
        "a-abcd1234",
        "--sort",
        "name",
        "-f",
        "json",
    )
    assert listed.json() == [
        {
            k: USER[k]
            for k in ("id", "username", "account_id", "role", "enabled")
        }
    ]
    params = api.requests[-1].url.params
    assert (params["account_id"], params["sort"]) == ("a-abcd1234", "name")
    assert run("user", "show", "u-abcd1234", "-f", "json").json() == USER
    assert run("user", "delete", "u-abcd1234").code == 0
