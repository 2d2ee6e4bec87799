"""The API keeps the contract its OpenAPI document states: the document is
valid OpenAPI 3.1, every path answers an unlisted method with 405 and the
methods it does take, and input is taken as typed, not coerced."""

import json
import os
import re

import pytest
from openapi_spec_validator import validate

import arame.api
from arame.api import errors

DOCUMENT = os.path.join(os.path.dirname(arame.api.__file__), "openapi.json")
SPEC = json.load(open(DOCUMENT))
METHODS = {"get", "put", "post", "delete", "patch"}
PATHS = sorted(SPEC["paths"])


def test_the_committed_document_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-abcdefgh", path)


@pytest.mark.parametrize("path", PATHS)
def test_an_unlisted_method_is_405_with_the_methods_the_path_takes(
    client, admin, path
):
    listed = {m.upper() for m in SPEC["paths"][path] if m in METHODS}
    unlisted = sorted(METHODS - {m.lower() for m in listed})
    if not unlisted:
        return  # every method is served: nothing can be 405 here
    r = client.request(
        unlisted[0].upper(), _concrete(path), headers=admin.headers
    )
    assert r.status_code == 405, (path, r.status_code, r.text)
    allowed = {m.strip() for m in r.headers["Allow"].split(",")}
    # HEAD rides along with GET (Starlette answers it); the rest is exact.
    assert allowed - {"HEAD"} == listed, (path, r.headers["Allow"])
    assert r.json()["error"]["code"] == "method_not_allowed"


def _field_error(r, field: str):
    assert r.status_code == 422, r.text
    fields = r.json()["error"]["details"]["fields"]
    assert [f["field"] for f in fields] == [field], r.text


def test_a_boolean_is_a_boolean(client, admin):
    # `0` and `"yes"` are not booleans: the document says boolean.
    for value in (0, 1, "true", "yes"):
        r = client.post(
            "/v1/networks",
            headers=admin.headers,
            json={
                "name": "n1",
                "cidr": "10.9.0.0/24",
                "dns_domain": "n1.internal",
                "segmentation": "vxlan",
                "shared": value,
            },
        )
        _field_error(r, "shared")
    assert [
        n
        for n in client.get("/v1/networks", headers=admin.headers).json()[
            "items"
        ]
        if n["name"] == "n1"
    ] == []


@pytest.mark.parametrize("value", ["5", 5.5, True])
def test_an_integer_is_an_integer(client, admin, member, value):
    r = client.put(
        f"/v1/quotas/{member.account_id}",
        headers=admin.headers,
        json={"instances": value},
    )
    _field_error(r, "instances")


def test_a_whole_number_written_with_a_point_is_that_integer(
    client, admin, member
):
    # JSON Schema's `integer` is any number without a fraction: a client
    # that writes 5.0 sends the document's 5.
    r = client.put(
        f"/v1/quotas/{member.account_id}",
        headers=admin.headers,
        json={"instances": 5.0},
    )
    assert r.status_code == 200, r.text
    assert r.json()["limits"]["instances"] == 5
    assert isinstance(r.json()["limits"]["instances"], int)


def test_a_field_of_an_update_may_be_left_out_but_is_never_null():
    # The document shows no null where the service refuses one.
    node = SPEC["components"]["schemas"]["NodeUpdate"]["properties"]
    for name, prop in node.items():
        assert "anyOf" not in prop and prop.get("type") != "null", name
        assert "default" not in prop, name


def test_a_tag_filter_is_a_tag(client, admin):
    r = client.get("/v1/volumes?tag=no%20spaces", headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["fields"][0]["field"].startswith("tag")


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-3"])
def test_a_time_in_a_query_is_a_date_time_not_a_number(client, admin, value):
    r = client.get(f"/v1/usage?start={value}", headers=admin.headers)
    _field_error(r, "start")
    assert "expected a date-time" in r.json()["error"]["message"]


def test_a_time_in_iso_8601_is_taken(client, admin):
    r = client.get(
        "/v1/usage?start=2026-01-01T00:00:00Z", headers=admin.headers
    )
    assert r.status_code == 200, r.text


GETS = sorted(p for p in PATHS if "get" in SPEC["paths"][p] and "{" not in p)


@pytest.mark.parametrize("path", GETS)
def test_every_answer_has_a_documented_content_type(client, admin, path):
    # /metrics answers Prometheus' text, not JSON: the document says which.
    r = client.get(path, headers=admin.headers)
    documented = SPEC["paths"][path]["get"]["responses"][str(r.status_code)]
    media = r.headers["content-type"].split(";")[0].strip()
    assert media in documented.get("content", {}), (path, media)


LISTS = sorted(
    p
    for p in PATHS
    if any(
        q.get("name") == "marker"
        for q in SPEC["paths"][p].get("get", {}).get("parameters", [])
    )
)


@pytest.mark.parametrize("path", LISTS)
def test_a_list_documents_the_400_of_an_unknown_marker(path):
    # A marker is schema-valid whatever it names: the 400 is documented
    # as an answer to valid input, so the fuzzer accepts it here only.
    documented = SPEC["paths"][path]["get"]["responses"]["400"]
    assert documented[errors.VALID_INPUT_REFUSED] is True
    assert "marker" in documented["description"]


def test_an_unknown_marker_is_the_documented_400(client, admin):
    r = client.get("/v1/volumes?marker=vol-00000000", headers=admin.headers)
    assert r.status_code == 400, r.text
    assert "unknown marker" in r.json()["error"]["message"]
