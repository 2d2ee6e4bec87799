"""A name wherever an id is taken (issue 15): the SDK looks it up among
what the caller can see, exactly, and refuses an ambiguous one."""

import pytest

from arame.sdk.errors import AmbiguousName, ArameError, NotFound


def page(items, next_marker=None):
    return (200, {"items": items, "next_marker": next_marker})


def named(id_, name, **more):
    return {"id": id_, "name": name, **more}


def test_an_id_is_used_as_it_is_without_a_lookup(client, api):
    api.add(
        "GET", "/v1/images/img-aaaaaaaa", (200, named("img-aaaaaaaa", "x"))
    )

    assert client.images.get("img-aaaaaaaa")["name"] == "x"
    assert [r.url.path for r in api.requests] == ["/v1/images/img-aaaaaaaa"]


def test_a_name_is_looked_up_then_got_by_its_id(client, api):
    api.add("GET", "/v1/instances", page([named("i-aaaaaaaa", "first")]))
    api.add(
        "GET",
        "/v1/instances/i-aaaaaaaa",
        (200, named("i-aaaaaaaa", "first", status="running")),
    )

    got = client.instances.get("first")

    assert got["status"] == "running"
    assert api.requests[0].url.params["name"] == "first"


def test_only_the_exact_name_counts(client, api):
    # MariaDB compares names case-insensitively; a glob matches more.
    api.add(
        "GET",
        "/v1/images",
        page(
            [named("img-aaaaaaaa", "Arame-Test"), named("img-bbbbbbbb", "t")]
        ),
    )

    with pytest.raises(NotFound) as caught:
        client.images.resolve("arame-test")

    assert caught.value.message == "no image named 'arame-test'"
    assert caught.value.status_code == 404


def test_a_name_is_found_on_any_page(client, api):
    api.add(
        "GET",
        "/v1/networks",
        page([named("nw-aaaaaaaa", "Lan")], next_marker="nw-aaaaaaaa"),
        page([named("nw-bbbbbbbb", "lan")]),
    )

    assert client.networks.resolve("lan") == "nw-bbbbbbbb"


def test_an_ambiguous_name_lists_the_candidates(client, api):
    api.add(
        "GET",
        "/v1/security_groups",
        page([named("sg-aaaaaaaa", "web"), named("sg-bbbbbbbb", "web")]),
    )

    with pytest.raises(AmbiguousName) as caught:
        client.security_groups.get("web")

    err = caught.value
    assert err.candidates == ["sg-aaaaaaaa", "sg-bbbbbbbb"]
    assert str(err) == (
        "2 security groups are named 'web': sg-aaaaaaaa, sg-bbbbbbbb; "
        "give the id of the one you mean"
    )
    assert isinstance(err, ArameError)


def test_an_id_the_api_does_not_know_is_not_found(client, api):
    with pytest.raises(NotFound):
        client.key_pairs.get("kp-aaaaaaaa")


@pytest.mark.parametrize(
    "manager, path, id_",
    [
        ("images", "/v1/images", "img-aaaaaaaa"),
        ("instances", "/v1/instances", "i-aaaaaaaa"),
        ("key_pairs", "/v1/key_pairs", "kp-aaaaaaaa"),
        ("networks", "/v1/networks", "nw-aaaaaaaa"),
        ("security_groups", "/v1/security_groups", "sg-aaaaaaaa"),
        ("snapshots", "/v1/snapshots", "snap-aaaaaaaa"),
        ("volumes", "/v1/volumes", "vol-aaaaaaaa"),
    ],
)
def test_delete_takes_a_name_of_every_kind(client, api, manager, path, id_):
    api.add("GET", path, page([named(id_, "mine")]))
    api.add("DELETE", f"{path}/{id_}", (202, {"task_id": "t-aaaaaaaa"}))

    getattr(client, manager).delete("mine")

    assert api.requests[-1].method == "DELETE"
    assert api.requests[-1].url.path == f"{path}/{id_}"


def test_instance_create_resolves_every_reference(client, api):
    api.add("GET", "/v1/images", page([named("img-aaaaaaaa", "arame-test")]))
    api.add("GET", "/v1/networks", page([named("nw-aaaaaaaa", "lan")]))
    api.add("GET", "/v1/security_groups", page([named("sg-aaaaaaaa", "web")]))
    api.add("GET", "/v1/key_pairs", page([named("kp-aaaaaaaa", "me")]))
    api.add("POST", "/v1/instances", (202, {"id": "i-aaaaaaaa"}))

    client.instances.create(
        "web1",
        "small",
        "arame-test",
        network="lan",
        security_groups=["web", "sg-bbbbbbbb"],
        key_pairs=["me", "kp-bbbbbbbb"],
        root_gb=20,
    )

    assert api.bodies("POST", "/v1/instances") == [
        {
            "name": "web1",
            "flavor": "small",
            "image": "img-aaaaaaaa",
            "network": "nw-aaaaaaaa",
            "security_groups": ["sg-aaaaaaaa", "sg-bbbbbbbb"],
            "key_pairs": ["kp-aaaaaaaa", "kp-bbbbbbbb"],
            "root_gb": 20,
        }
    ]


def test_an_unknown_image_name_stops_the_create(client, api):
    api.add("GET", "/v1/images", page([]))

    with pytest.raises(NotFound, match="no image named 'nope'"):
        client.instances.create("web1", "small", "nope")

    assert api.bodies("POST", "/v1/instances") == []


def test_volume_and_snapshot_calls_resolve_their_references(client, api):
    api.add("GET", "/v1/volumes", page([named("vol-aaaaaaaa", "data")]))
    api.add("GET", "/v1/instances", page([named("i-aaaaaaaa", "web1")]))
    api.add("GET", "/v1/images", page([named("img-aaaaaaaa", "raw")]))
    api.add("GET", "/v1/snapshots", page([named("snap-aaaaaaaa", "s1")]))
    api.add("POST", "/v1/volumes/vol-aaaaaaaa/actions", (202, {}))
    api.add("POST", "/v1/snapshots", (202, {}))
    api.add("POST", "/v1/volumes", (202, {}))

    client.volumes.attach("data", "web1")
    client.snapshots.create("s2", "data")
    client.volumes.create("v2", image="raw")
    client.volumes.create("v3", snapshot="s1")

    assert api.bodies("POST", "/v1/volumes/vol-aaaaaaaa/actions") == [
        {"action": "attach", "instance_id": "i-aaaaaaaa"}
    ]
    assert api.bodies("POST", "/v1/snapshots") == [
        {"name": "s2", "volume_id": "vol-aaaaaaaa"}
    ]
    assert api.bodies("POST", "/v1/volumes") == [
        {"name": "v2", "image": "img-aaaaaaaa"},
        {"name": "v3", "snapshot": "snap-aaaaaaaa"},
    ]


def test_a_name_shaped_like_another_kinds_id_is_a_name(client, api):
    # `i-` is an instance's prefix, not an image's.
    api.add("GET", "/v1/images", page([named("img-aaaaaaaa", "i-12345678")]))

    assert client.images.resolve("i-12345678") == "img-aaaaaaaa"
