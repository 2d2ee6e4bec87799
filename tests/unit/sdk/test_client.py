import httpx
import pytest

from arame.sdk import ArameError, Client
from tests.helpers.fakes import error

from .conftest import ENDPOINT

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


def test_login_returns_the_token_body_and_uses_the_token_afterwards(api):
    api.add("POST", "/v1/auth/tokens", (201, TOKEN_BODY))
    api.add("GET", "/v1/instances/i-aaaaaaaa", (200, {"id": "i-aaaaaaaa"}))
    client = Client(ENDPOINT, transport=api.transport)

    body = client.login("alice", "secret")
    client.instances.get("i-aaaaaaaa")

    assert body == TOKEN_BODY
    assert client.token == "tok-new"
    assert api.bodies("POST", "/v1/auth/tokens") == [
        {"username": "alice", "password": "secret"}
    ]
    assert api.requests[-1].headers["Authorization"] == "Bearer tok-new"


def test_login_does_not_send_a_previous_token(api):
    api.add("POST", "/v1/auth/tokens", (201, TOKEN_BODY))
    client = Client(ENDPOINT, token="tok-expired", transport=api.transport)

    client.login("alice", "secret")

    assert "Authorization" not in api.requests[0].headers


def test_failed_login_raises_and_keeps_no_token(api):
    api.add(
        "POST",
        "/v1/auth/tokens",
        (401, error("unauthorized", "bad credentials")),
    )
    client = Client(ENDPOINT, transport=api.transport)

    with pytest.raises(ArameError) as raised:
        client.login("alice", "wrong")

    assert (raised.value.status_code, raised.value.code) == (
        401,
        "unauthorized",
    )
    assert client.token is None


def test_endpoint_trailing_slash_does_not_double_up(api):
    api.add("GET", "/v1/flavors", (200, {"items": [], "next_marker": None}))
    client = Client(ENDPOINT + "/", transport=api.transport)

    assert client.flavors.list() == []
    assert str(api.requests[0].url) == ENDPOINT + "/v1/flavors"


def test_client_works_as_a_context_manager(api):
    api.add(
        "GET",
        "/v1/flavors",
        (200, {"items": [{"name": "m1"}], "next_marker": None}),
    )
    with Client(ENDPOINT, transport=api.transport) as client:
        assert client.flavors.list() == [{"name": "m1"}]
    with pytest.raises(RuntimeError):
        client.flavors.list()


def test_no_token_means_no_authorization_header(api):
    api.add("GET", "/v1/images", (200, {"items": [], "next_marker": None}))
    Client(ENDPOINT, transport=api.transport).images.list()
    assert "Authorization" not in api.requests[0].headers


def test_timeout_is_passed_to_httpx(api):
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.extensions["timeout"])
        return httpx.Response(200, json={"items": [], "next_marker": None})

    Client(
        ENDPOINT, timeout=3.5, transport=httpx.MockTransport(handler)
    ).hosts.list()
    assert seen["read"] == 3.5
