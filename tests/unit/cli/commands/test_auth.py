import json
import stat

import pytest

from tests.helpers.fakes import error

TOKEN_BODY = {
    "token": "tok-new",
    "expires_at": "2030-01-01T00:00:00Z",
    "user": {
        "id": "u-aaaaaaaa",
        "username": "alice",
        "account_id": "a-aaaaaaaa",
        "role": "member",
    },
    "account_id": "a-aaaaaaaa",
    "roles": ["member"],
}


@pytest.fixture
def token_endpoint(api):
    api.add("POST", "/v1/auth/tokens", (201, TOKEN_BODY))


def test_login_stores_url_token_and_expiry_privately(
    run, api, token_endpoint, isolated_env
):
    result = run(
        "--url",
        "http://cloud:9001",
        "login",
        "--username",
        "alice",
        "--password",
        "pw",
        "-f",
        "json",
    )

    assert result.code == 0
    shown = result.json()
    assert shown["account_id"] == "a-aaaaaaaa" and shown["roles"] == ["member"]
    assert "tok-new" not in result.stdout
    saved = isolated_env / "credentials.json"
    assert json.loads(saved.read_text()) == {
        "url": "http://cloud:9001",
        "token": "tok-new",
        "expires_at": "2030-01-01T00:00:00Z",
    }
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert api.bodies("POST", "/v1/auth/tokens") == [
        {"username": "alice", "password": "pw"}
    ]


def test_later_commands_use_the_stored_login(run, api, token_endpoint):
    api.add("GET", "/v1/images", (200, {"items": [], "next_marker": None}))
    run(
        "--url",
        "http://cloud:9001",
        "login",
        "--username",
        "alice",
        "--password",
        "pw",
    )

    assert run("image", "list").code == 0

    assert str(api.requests[-1].url) == "http://cloud:9001/v1/images"
    assert api.requests[-1].headers["Authorization"] == "Bearer tok-new"


def test_password_from_environment(run, api, token_endpoint, monkeypatch):
    monkeypatch.setenv("ARAME_PASSWORD", "from-env")

    assert run("login", "--username", "alice").code == 0
    assert api.bodies("POST", "/v1/auth/tokens")[0]["password"] == "from-env"


def test_password_is_prompted_for_when_not_given(
    run, api, token_endpoint, monkeypatch
):
    prompts = []
    monkeypatch.setattr(
        "getpass.getpass", lambda prompt: prompts.append(prompt) or "typed"
    )

    assert run("login", "--username", "alice").code == 0
    assert prompts == ["Password for alice: "]
    assert api.bodies("POST", "/v1/auth/tokens")[0]["password"] == "typed"


def test_wrong_password_exits_1_and_stores_nothing(run, api, isolated_env):
    api.add(
        "POST",
        "/v1/auth/tokens",
        (401, error("unauthorized", "invalid username or password")),
    )

    result = run("login", "--username", "alice", "--password", "nope")

    assert result.code == 1
    assert (
        result.stderr.splitlines()[0]
        == "Error (401 unauthorized): invalid username or password"
    )
    assert "Traceback" not in result.stderr
    assert not (isolated_env / "credentials.json").exists()
