import httpx
import pytest

from arame.sdk import ArameError, Client, ConnectionFailed
from tests.helpers.fakes import error

from .conftest import ENDPOINT


def test_error_envelope_becomes_arame_error(client, api):
    api.add(
        "POST",
        "/v1/instances/i-aaaaaaaa/actions",
        (
            409,
            error(
                "conflict",
                "instance is already running",
                {"status": "running"},
            ),
        ),
    )

    with pytest.raises(ArameError) as raised:
        client.instances.action("i-aaaaaaaa", "start")

    err = raised.value
    assert err.status_code == 409
    assert (err.code, err.message) == (
        "conflict",
        "instance is already running",
    )
    assert err.details == {"status": "running"}
    assert str(err) == "409 conflict: instance is already running"


def test_validation_details_are_kept(client, api):
    api.add(
        "POST",
        "/v1/instances",
        (422, error("invalid", "name is invalid", {"field": "name"})),
    )

    with pytest.raises(ArameError) as raised:
        client.instances.create("bad name", "m1.small", "img-aaaaaaaa")

    assert raised.value.status_code == 422
    assert raised.value.details == {"field": "name"}


def test_html_error_page_still_gives_a_clear_error(client, api):
    api.add(
        "GET",
        "/v1/instances",
        httpx.Response(
            502, text="<html><body><h1>502 Bad Gateway</h1></body></html>"
        ),
    )

    with pytest.raises(ArameError) as raised:
        client.instances.list()

    err = raised.value
    assert err.status_code == 502
    assert err.code == "bad_gateway"
    assert "502 Bad Gateway" in err.message


def test_empty_error_body_uses_the_reason_phrase(client, api):
    api.add("GET", "/v1/hosts", httpx.Response(403))

    with pytest.raises(ArameError) as raised:
        client.hosts.list()

    assert (
        raised.value.status_code,
        raised.value.code,
        raised.value.message,
    ) == (
        403,
        "forbidden",
        "Forbidden",
    )


def test_json_error_without_envelope_is_still_an_arame_error(client, api):
    api.add("GET", "/v1/hosts", (500, {"detail": "boom"}))

    with pytest.raises(ArameError) as raised:
        client.hosts.list()

    assert raised.value.status_code == 500
    assert "boom" in raised.value.message


def test_success_that_is_not_json_is_reported(client, api):
    api.add("GET", "/v1/flavors", httpx.Response(200, text="hello"))

    with pytest.raises(ArameError) as raised:
        client.flavors.list()

    assert raised.value.code == "invalid_response"
    assert "hello" in raised.value.message


def test_unreachable_endpoint_raises_connection_failed():
    def refuse(request):
        raise httpx.ConnectError("Connection refused", request=request)

    client = Client(ENDPOINT, transport=httpx.MockTransport(refuse))

    with pytest.raises(ConnectionFailed) as raised:
        client.instances.list()

    assert isinstance(raised.value, ArameError)
    assert raised.value.status_code is None
    assert (
        ENDPOINT in raised.value.message and "refused" in raised.value.message
    )
