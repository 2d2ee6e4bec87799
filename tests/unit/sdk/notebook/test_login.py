"""Where ArameSDK finds its endpoint and token, and AuthError at once."""

import pytest

from arame.cli import credentials
from arame.sdk import ArameSDK, AuthError

from .conftest import ENDPOINT
from .fake_cloud import GOOD_TOKEN


def test_a_refused_token_fails_at_construction_with_the_servers_reason(
    cloud,
):
    with pytest.raises(AuthError) as caught:
        ArameSDK("tok-stale", ENDPOINT, transport=cloud.transport)
    assert caught.value.status_code == 401
    assert "token expired at 10:00" in str(caught.value)
    assert "the token given to ArameSDK" in str(caught.value)


def test_no_token_anywhere_says_how_to_get_one(cloud):
    with pytest.raises(AuthError) as caught:
        ArameSDK(endpoint=ENDPOINT, transport=cloud.transport)
    assert caught.value.status_code is None
    assert "arame login" in str(caught.value)
    assert cloud.requests == []


def test_the_environment_gives_endpoint_and_token(cloud, monkeypatch):
    monkeypatch.setenv("ARAME_URL", ENDPOINT)
    monkeypatch.setenv("ARAME_TOKEN", GOOD_TOKEN)
    sdk = ArameSDK(transport=cloud.transport)
    assert sdk.client.endpoint == ENDPOINT
    assert cloud.requests[0].url.host == "arame.test"


def test_the_clis_saved_login_is_used(cloud):
    credentials.save({"url": ENDPOINT, "token": GOOD_TOKEN})
    sdk = ArameSDK(transport=cloud.transport)
    assert sdk.client.endpoint == ENDPOINT
    assert sdk.client.token == GOOD_TOKEN


def test_a_saved_login_is_never_sent_to_another_endpoint(cloud):
    credentials.save({"url": "http://elsewhere:9001", "token": GOOD_TOKEN})
    with pytest.raises(AuthError) as caught:
        ArameSDK(endpoint=ENDPOINT, transport=cloud.transport)
    assert "saved login is for http://elsewhere:9001" in str(caught.value)


def test_login_with_a_password(cloud):
    sdk = ArameSDK.login(
        "alice", "pw", endpoint=ENDPOINT, transport=cloud.transport
    )
    assert sdk.client.token == GOOD_TOKEN
    with pytest.raises(AuthError, match="wrong username or password"):
        ArameSDK.login(
            "alice", "bad", endpoint=ENDPOINT, transport=cloud.transport
        )


def test_version(sdk):
    v = sdk.version()
    assert v["server"] == "9.9.9" and v["api_version"] == "1.4"
    assert v["sdk"] and v["endpoint"] == ENDPOINT
