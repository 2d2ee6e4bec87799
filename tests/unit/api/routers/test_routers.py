"""/v1/routers: a router joins an account's networks and an external
network; every refusal names the problem and writes nothing; a change is a
task the scheduler runs (sync_router / delete_router)."""

import ipaddress

import pytest
import sqlalchemy as sa

from arame.common import ids, routing
from arame.common.db import engine, models
from tests.unit.api.conftest import assert_error
from tests.unit.api.routers.routing_fixtures import (  # noqa: F401
    counts,
    external,
    l3_scheduler,
    make_router,
    network,
)


def test_create_records_the_router_and_casts_sync(
    client, member, external, network, make_router, l3_scheduler
):
    ext = external()
    net = network()
    r = make_router(external_network="public", networks=[net["name"]])
    assert ids.is_valid("router", r["id"])
    assert (r["status"], r["host"], r["error"]) == ("building", None, None)
    assert r["external_network"] == ext["id"]
    addr = ipaddress.ip_address(r["external_address"])
    assert (
        ipaddress.ip_address("203.0.113.10")
        <= addr
        <= ipaddress.ip_address("203.0.113.200")
    )
    assert r["networks"] == [
        {"id": net["id"], "cidr": "10.30.0.0/24", "address": "10.30.0.1"}
    ]
    assert r["floating_ips"] == 0
    assert l3_scheduler.casts == [("sync_router", r["task_id"], r["id"])]
    with engine.session() as s:
        task = s.get(models.Task, r["task_id"])
        assert (task.resource_type, task.resource_id, task.action) == (
            "router",
            r["id"],
            "create",
        )
        gw = s.get(models.FloatingIp, r["id"])
        assert (gw.kind, gw.address) == ("gateway", r["external_address"])
        msg = routing.router_message(s, r["id"])
    assert msg == {
        "id": r["id"],
        "gateway": {
            "network": {
                "id": ext["id"],
                "segmentation": "flat",
                "segment_id": None,
                "mtu": 1500,
                "physical_network": "public",
            },
            "address": f"{r['external_address']}/24",
            "next_hop": "203.0.113.1",
        },
        "interfaces": [
            {
                "network": {
                    "id": net["id"],
                    "segmentation": "vxlan",
                    "segment_id": net["segment_id"],
                    "mtu": 1450,
                },
                "address": "10.30.0.1/24",
            }
        ],
        "floating_ips": [],
    }
    # by id and by name; listed
    for ref in (r["id"], "r1"):
        got = client.get(f"/v1/routers/{ref}", headers=member.headers)
        assert got.status_code == 200 and got.json()["id"] == r["id"]
    listed = client.get("/v1/routers", headers=member.headers).json()
    assert [x["id"] for x in listed["items"]] == [r["id"]]


def test_a_router_without_anything_yet(make_router, l3_scheduler):
    r = make_router()
    assert (r["external_network"], r["networks"]) == (None, [])
    with engine.session() as s:
        assert routing.router_message(s, r["id"]) == {
            "id": r["id"],
            "gateway": None,
            "interfaces": [],
            "floating_ips": [],
        }
        assert routing.router_message(s, "rt-00000000") is None


def test_several_networks_route_through_one_router(
    network, make_router, l3_scheduler
):
    a = network(name="a")
    b = network(name="b", cidr="10.31.0.0/24")
    r = make_router(networks=[a["id"], b["id"]])
    assert [n["address"] for n in r["networks"]] == sorted(
        ["10.30.0.1", "10.31.0.1"],
        key=lambda x: {"10.30.0.1": a["id"], "10.31.0.1": b["id"]}[x],
    )


def test_the_owner_of_a_shared_network_routes_it(
    admin, network, make_router, l3_scheduler
):
    # As the seeded `default` is the admin's: sharing it does not stop
    # its owner giving it a way out.
    shared = network(admin, name="pub", shared=True, cidr="10.50.0.0/24")
    r = make_router(admin, networks=[shared["name"]])
    assert [n["id"] for n in r["networks"]] == [shared["id"]]


def _legacy(network):
    net = network(name="old", cidr="10.40.0.0/24")
    with engine.session() as s:
        s.get(models.Network, net["id"]).dhcp_address = None
    return net


@pytest.mark.parametrize(
    "case, status, words",
    [
        ("other_account_network", 422, "unknown network"),
        ("external_as_network", 422, "is external"),
        ("shared_network", 422, "shared by another account"),
        ("not_external", 422, "is not external"),
        ("unknown_external", 422, "unknown network"),
        ("taken_network", 409, "already attached to router"),
        ("overlap", 409, "overlap"),
        ("legacy", 409, "made before routers"),
        ("pool_exhausted", 409, "exhausted"),
        ("same_twice", 422, "given twice"),
        ("name_taken", 409, "already exists"),
    ],
)
def test_refusals_name_the_problem_and_write_nothing(
    client,
    admin,
    member,
    make_user,
    external,
    network,
    make_router,
    l3_scheduler,
    case,
    status,
    words,
):
    mine = network()
    body = {"name": "r2"}
    if case == "other_account_network":
        theirs = network(make_user("member"), name="theirs")
        body["networks"] = [theirs["id"]]
    elif case == "external_as_network":
        body["networks"] = [external()["id"]]
    elif case == "shared_network":
        shared = network(admin, name="pub", shared=True, cidr="10.50.0.0/24")
        body["networks"] = [shared["id"]]
    elif case == "not_external":
        body["external_network"] = mine["id"]
    elif case == "unknown_external":
        body["external_network"] = "nowhere"
    elif case == "taken_network":
        make_router(name="r1", networks=[mine["id"]])
        body["networks"] = [mine["id"]]
    elif case == "overlap":
        other = network(name="n2", cidr="10.30.0.0/16")
        body["networks"] = [mine["id"], other["id"]]
    elif case == "legacy":
        body["networks"] = [_legacy(network)["id"]]
    elif case == "pool_exhausted":
        external(dhcp_ranges=[["203.0.113.10", "203.0.113.10"]])
        make_router(name="r1", external_network="public")
        body["external_network"] = "public"
    elif case == "same_twice":
        body["networks"] = [mine["id"], mine["name"]]
    elif case == "name_taken":
        make_router(name="r2")
    before, casts = counts(), list(l3_scheduler.casts)
    r = client.post("/v1/routers", headers=member.headers, json=body)
    err = assert_error(r, status)
    assert words in err["message"], err
    assert counts() == before and l3_scheduler.casts == casts


def test_an_external_network_overlapping_a_tenant_one_is_409(
    client, member, external, network, l3_scheduler
):
    external(cidr="10.30.0.0/16", dhcp_ranges=None)
    net = network()
    r = client.post(
        "/v1/routers",
        headers=member.headers,
        json={
            "name": "r",
            "external_network": "public",
            "networks": [net["id"]],
        },
    )
    assert "overlaps external network" in assert_error(r, 409)["message"]
    assert counts()["routers"] == 0


def test_another_accounts_router_is_404(
    client, make_user, make_router, l3_scheduler
):
    r = make_router()
    other = make_user("member")
    url = f"/v1/routers/{r['id']}"
    assert_error(client.get(url, headers=other.headers), 404)
    assert_error(client.get("/v1/routers/r1", headers=other.headers), 404)
    assert_error(
        client.patch(url, headers=other.headers, json={"name": "x"}), 404
    )
    assert_error(client.delete(url, headers=other.headers), 404)
    assert (
        client.get("/v1/routers", headers=other.headers).json()["items"] == []
    )


def test_a_reader_reads_but_does_not_change(
    client, member, make_user, make_router, l3_scheduler
):
    r = make_router()
    reader = make_user("reader", account_id=member.account_id)
    url = f"/v1/routers/{r['id']}"
    assert client.get(url, headers=reader.headers).status_code == 200
    assert_error(
        client.post("/v1/routers", headers=reader.headers, json={"name": "x"}),
        403,
    )
    assert_error(client.delete(url, headers=reader.headers), 403)


def test_update_changes_networks_and_gateway_then_syncs(
    client, member, external, network, make_router, l3_scheduler
):
    ext = external()
    a = network(name="a")
    b = network(name="b", cidr="10.31.0.0/24")
    r = make_router(external_network=ext["id"], networks=[a["id"]])
    url = f"/v1/routers/{r['id']}"
    got = client.patch(
        url,
        headers=member.headers,
        json={"name": "edge", "networks": [b["id"]]},
    )
    assert got.status_code == 202, got.text
    body = got.json()
    assert body["name"] == "edge"
    assert [n["id"] for n in body["networks"]] == [b["id"]]
    assert body["external_address"] == r["external_address"]
    assert l3_scheduler.casts[-1] == ("sync_router", body["task_id"], r["id"])
    # a is free again for another router
    make_router(name="r2", networks=[a["id"]])
    got = client.patch(
        url, headers=member.headers, json={"external_network": None}
    )
    assert got.status_code == 202, got.text
    assert (
        got.json()["external_network"],
        got.json()["external_address"],
    ) == (
        None,
        None,
    )
    with engine.session() as s:
        assert s.get(models.FloatingIp, r["id"]) is None  # released
    assert_error(client.patch(url, headers=member.headers, json={}), 422)


def test_delete_marks_deleting_and_casts(
    client, member, external, network, make_router, l3_scheduler
):
    r = make_router(external_network=external()["id"])
    got = client.delete(f"/v1/routers/{r['id']}", headers=member.headers)
    assert got.status_code == 202, got.text
    assert l3_scheduler.casts[-1] == (
        "delete_router",
        got.json()["task_id"],
        r["id"],
    )
    with engine.session() as s:
        assert s.get(models.Router, r["id"]).status == "deleting"
    # The flow deletes the records; meanwhile no change is taken.
    assert_error(
        client.patch(
            f"/v1/routers/{r['id']}",
            headers=member.headers,
            json={"name": "x"},
        ),
        409,
    )


def test_a_network_a_router_uses_cannot_go(
    client, member, admin, external, network, make_router, l3_scheduler
):
    ext = external()
    net = network()
    make_router(external_network=ext["id"], networks=[net["id"]])
    for who, nid in ((member, net["id"]), (admin, ext["id"])):
        err = assert_error(
            client.delete(f"/v1/networks/{nid}", headers=who.headers), 409
        )
        assert "router" in err["message"]


def test_a_bus_that_refuses_fails_the_task_and_the_router(
    client, member, l3_scheduler
):
    l3_scheduler.fail = True
    r = client.post("/v1/routers", headers=member.headers, json={"name": "r"})
    assert_error(r, 503)
    with engine.session() as s:
        router = s.scalar(sa.select(models.Router))
        task = s.scalar(sa.select(models.Task))
        assert (router.status, router.error) == (
            "error",
            "could not reach the scheduler",
        )
        assert task.status == "failed"
