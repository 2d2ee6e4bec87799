"""The router and floating IP managers: paths, bodies, names resolved to
ids, the gateway's null, and a floating IP found by its address."""

import httpx
import pytest

from arame.sdk.errors import AmbiguousName, NotFound

ROUTERS = "/v1/routers"
FIPS = "/v1/floating_ips"
NETS = "/v1/networks"
EXT = {"id": "nw-eeeeeeee", "name": "public", "external": True}
NET = {"id": "nw-aaaaaaaa", "name": "lab"}
ROUTER = {
    "id": "rt-aaaaaaaa",
    "name": "edge",
    "status": "active",
    "external_network": "nw-eeeeeeee",
    "external_address": "203.0.113.10",
    "networks": [
        {"id": "nw-aaaaaaaa", "cidr": "10.0.0.0/24", "address": "10.0.0.1"}
    ],
    "floating_ips": 0,
}
FIP = {
    "id": "fip-aaaaaaaa",
    "address": "203.0.113.20",
    "network_id": "nw-eeeeeeee",
    "instance_id": None,
    "fixed_address": None,
    "router_id": None,
    "status": "down",
}


def page(*items):
    return (200, {"items": list(items), "next_marker": None})


def by_name(api, path, *items):
    """GET `path`?name=... answers with the items of that exact name."""

    def answer(request):
        name = request.url.params.get("name")
        return httpx.Response(
            200,
            json={
                "items": [i for i in items if name in (None, i["name"])],
                "next_marker": None,
            },
        )

    api.add("GET", path, answer)


def test_router_create_resolves_network_names(client, api):
    by_name(api, NETS, EXT, NET)
    api.add("POST", ROUTERS, (202, {**ROUTER, "task_id": "t-1"}))

    made = client.routers.create(
        "edge", external_network="public", networks=["lab", "nw-bbbbbbbb"]
    )
    client.routers.create("bare")

    assert made["task_id"] == "t-1"
    assert api.bodies("POST", ROUTERS) == [
        {
            "name": "edge",
            "external_network": "nw-eeeeeeee",
            "networks": ["nw-aaaaaaaa", "nw-bbbbbbbb"],
        },
        {"name": "bare"},
    ]


def test_router_get_list_delete_by_name(client, api):
    by_name(api, ROUTERS, ROUTER)
    api.add("GET", f"{ROUTERS}/rt-aaaaaaaa", (200, ROUTER))
    api.add("DELETE", f"{ROUTERS}/rt-aaaaaaaa", (202, {"task_id": "t-2"}))

    assert client.routers.list(all=True) == [ROUTER]
    assert client.routers.get("edge") == ROUTER
    assert client.routers.delete("edge")["task_id"] == "t-2"
    with pytest.raises(NotFound, match="no router named 'nope'"):
        client.routers.get("nope")


def test_router_update_sends_only_what_changes(client, api):
    item = f"{ROUTERS}/rt-aaaaaaaa"
    api.add("PATCH", item, (202, {**ROUTER, "task_id": "t-3"}))

    client.routers.update("rt-aaaaaaaa", name="edge2")
    client.routers.update("rt-aaaaaaaa", external_network=None)
    client.routers.update("rt-aaaaaaaa", networks=[])
    client.routers.set_gateway("rt-aaaaaaaa", "nw-eeeeeeee")
    client.routers.unset_gateway("rt-aaaaaaaa")

    assert api.bodies("PATCH", item) == [
        {"name": "edge2"},
        {"external_network": None},
        {"networks": []},
        {"external_network": "nw-eeeeeeee"},
        {"external_network": None},
    ]


def test_add_and_remove_network_send_the_whole_new_list(client, api):
    item = f"{ROUTERS}/rt-aaaaaaaa"
    by_name(api, NETS, EXT, NET, {"id": "nw-bbbbbbbb", "name": "db"})
    api.add("GET", item, (200, ROUTER))
    api.add("PATCH", item, (202, {**ROUTER, "task_id": "t-4"}))

    client.routers.add_network("rt-aaaaaaaa", "db")
    # Already there: the list is sent unchanged (the API is idempotent).
    client.routers.add_network("rt-aaaaaaaa", "nw-aaaaaaaa")
    client.routers.remove_network("rt-aaaaaaaa", "lab")
    client.routers.remove_network("rt-aaaaaaaa", "nw-aaaaaaaa")

    assert api.bodies("PATCH", item) == [
        {"networks": ["nw-aaaaaaaa", "nw-bbbbbbbb"]},
        {"networks": ["nw-aaaaaaaa"]},
        {"networks": []},
        {"networks": []},
    ]


def test_removing_a_network_not_attached_is_refused_before_any_change(
    client, api
):
    api.add("GET", f"{ROUTERS}/rt-aaaaaaaa", (200, ROUTER))

    with pytest.raises(NotFound, match="not attached to router 'edge'"):
        client.routers.remove_network("rt-aaaaaaaa", "nw-bbbbbbbb")
    assert not api.bodies("PATCH", f"{ROUTERS}/rt-aaaaaaaa")


def test_router_task_is_waited_on_like_any_other(client, api):
    api.add("POST", ROUTERS, (202, {**ROUTER, "task_id": "t-5"}))
    api.add(
        "GET",
        "/v1/tasks/t-5",
        (200, {"id": "t-5", "status": "running"}),
        (200, {"id": "t-5", "status": "done"}),
    )

    answer = client.routers.create("edge")

    assert client.tasks.wait(answer["task_id"])["status"] == "done"


def test_floating_ip_allocate_list_release(client, api):
    by_name(api, NETS, EXT)
    by_name(api, "/v1/instances", {"id": "i-aaaaaaaa", "name": "web"})
    api.add("POST", FIPS, (201, FIP))
    api.add("GET", FIPS, page(FIP))
    api.add("DELETE", f"{FIPS}/fip-aaaaaaaa", (204, None))

    assert client.floating_ips.allocate("public") == FIP
    client.floating_ips.allocate("nw-eeeeeeee", address="203.0.113.21")
    assert client.floating_ips.list(instance="web", network="public") == [FIP]
    assert client.floating_ips.release("fip-aaaaaaaa") == {}

    assert api.bodies("POST", FIPS) == [
        {"network": "nw-eeeeeeee"},
        {"network": "nw-eeeeeeee", "address": "203.0.113.21"},
    ]
    listed = [
        r for r in api.requests if r.method == "GET" and r.url.path == FIPS
    ]
    assert dict(listed[0].url.params) == {
        "instance": "i-aaaaaaaa",
        "network": "nw-eeeeeeee",
    }


def test_floating_ip_is_found_by_its_address(client, api):
    other = {**FIP, "id": "fip-bbbbbbbb", "address": "203.0.113.30"}
    api.add("GET", FIPS, page(other, FIP))
    api.add("POST", f"{FIPS}/fip-aaaaaaaa/actions", (202, {"task_id": "t"}))

    assert client.floating_ips.get("203.0.113.20") == FIP
    client.floating_ips.disassociate("203.0.113.20")
    with pytest.raises(NotFound, match="no floating IP 203.0.113.99"):
        client.floating_ips.get("203.0.113.99")

    assert api.bodies("POST", f"{FIPS}/fip-aaaaaaaa/actions") == [
        {"disassociate": {}}
    ]


def test_an_address_in_two_pools_is_ambiguous(client, api):
    twin = {**FIP, "id": "fip-bbbbbbbb", "network_id": "nw-ffffffff"}
    api.add("GET", FIPS, page(FIP, twin))

    with pytest.raises(AmbiguousName) as caught:
        client.floating_ips.get("203.0.113.20")
    assert caught.value.candidates == ["fip-aaaaaaaa", "fip-bbbbbbbb"]


def test_associate_names_the_instance_and_its_address(client, api):
    by_name(api, "/v1/instances", {"id": "i-aaaaaaaa", "name": "web"})
    actions = f"{FIPS}/fip-aaaaaaaa/actions"
    api.add("POST", actions, (202, {**FIP, "task_id": "t-6"}))

    answer = client.floating_ips.associate("fip-aaaaaaaa", "web")
    client.floating_ips.associate(
        "fip-aaaaaaaa", "i-aaaaaaaa", ip_address="10.0.1.5"
    )

    assert answer["task_id"] == "t-6"
    assert api.bodies("POST", actions) == [
        {"associate": {"instance": "i-aaaaaaaa"}},
        {"associate": {"instance": "i-aaaaaaaa", "ip_address": "10.0.1.5"}},
    ]


def test_creates_carry_an_idempotency_key(client, api):
    api.add("POST", ROUTERS, (202, {**ROUTER, "task_id": "t-7"}))
    api.add("POST", FIPS, (201, FIP))

    client.routers.create("edge", idempotency_key="k-1")
    client.floating_ips.allocate("nw-eeeeeeee", idempotency_key="k-2")
    client.floating_ips.allocate("nw-eeeeeeee")

    keys = [r.headers.get("Idempotency-Key") for r in api.requests]
    assert keys == ["k-1", "k-2", None]
