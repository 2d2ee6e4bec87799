import pytest


def page(items, next_marker=None):
    return (200, {"items": items, "next_marker": next_marker})


def test_list_returns_one_page_by_default(client, api):
    api.add(
        "GET",
        "/v1/instances",
        page([{"id": "i-1"}, {"id": "i-2"}], next_marker="i-2"),
    )

    assert client.instances.list(limit=2) == [{"id": "i-1"}, {"id": "i-2"}]
    assert len(api.requests) == 1
    assert api.requests[0].url.params["limit"] == "2"


def test_list_all_follows_next_marker_to_the_end(client, api):
    api.add(
        "GET",
        "/v1/instances",
        page([{"id": "i-1"}, {"id": "i-2"}], next_marker="i-2"),
        page([{"id": "i-3"}], next_marker="i-3"),
        page([]),
    )

    items = client.instances.list(all=True, status="running")

    assert [i["id"] for i in items] == ["i-1", "i-2", "i-3"]
    markers = [r.url.params.get("marker") for r in api.requests]
    assert markers == [None, "i-2", "i-3"]
    assert all(r.url.params["status"] == "running" for r in api.requests)


def test_unset_filters_are_not_sent(client, api):
    api.add("GET", "/v1/instances", page([]))

    client.instances.list(status=None, name="web*")

    assert dict(api.requests[0].url.params) == {"name": "web*"}


@pytest.mark.parametrize(
    "manager, path",
    [
        ("hosts", "/v1/hosts"),
        ("flavors", "/v1/flavors"),
        ("images", "/v1/images"),
    ],
)
def test_catalog_managers_list_their_collection(client, api, manager, path):
    api.add(
        "GET",
        path,
        page([{"name": "a"}], next_marker="a"),
        page([{"name": "b"}]),
    )

    assert getattr(client, manager).list(all=True) == [
        {"name": "a"},
        {"name": "b"},
    ]
    assert all(r.url.path == path for r in api.requests)
