"""The calls issue 15 adds: image delete, an instance's security groups
and metrics, the API's version."""

import pytest

from arame.sdk import ArameError
from tests.helpers.fakes import error


def test_image_delete(client, api):
    api.add("DELETE", "/v1/images/img-aaaaaaaa", (204, None))

    assert client.images.delete("img-aaaaaaaa") is None
    assert api.requests[0].method == "DELETE"


def test_image_delete_refused_while_used_says_by_what(client, api):
    api.add(
        "DELETE",
        "/v1/images/img-aaaaaaaa",
        (409, error("conflict", "image img-aaaaaaaa is used by i-aaaaaaaa")),
    )

    with pytest.raises(ArameError, match="used by i-aaaaaaaa"):
        client.images.delete("img-aaaaaaaa")


def test_set_security_groups_puts_the_new_set(client, api):
    api.add(
        "GET",
        "/v1/security_groups",
        (200, {"items": [{"id": "sg-bbbbbbbb", "name": "web"}]}),
    )
    api.add(
        "PUT",
        "/v1/instances/i-aaaaaaaa/security_groups",
        (202, {"id": "i-aaaaaaaa", "task_id": "t-aaaaaaaa"}),
    )

    answer = client.instances.set_security_groups(
        "i-aaaaaaaa", ["sg-aaaaaaaa", "web"]
    )

    assert answer["task_id"] == "t-aaaaaaaa"
    assert api.bodies("PUT", "/v1/instances/i-aaaaaaaa/security_groups") == [
        {"security_groups": ["sg-aaaaaaaa", "sg-bbbbbbbb"]}
    ]


@pytest.mark.parametrize("since, sent", [(None, None), (300, "300")])
def test_metrics_passes_since_when_given(client, api, since, sent):
    samples = {"instance_id": "i-aaaaaaaa", "interval": 10, "samples": []}
    api.add("GET", "/v1/instances/i-aaaaaaaa/metrics", (200, samples))

    assert client.instances.metrics("i-aaaaaaaa", since=since) == samples
    assert api.requests[0].url.params.get("since") == sent


def test_version(client, api):
    version = {"api_version": "1.1", "version": "0.9", "features": []}
    api.add("GET", "/v1/version", (200, version))

    assert client.version() == version
