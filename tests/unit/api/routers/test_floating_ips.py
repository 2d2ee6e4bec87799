"""/v1/floating_ips: addresses of an external network's pool under the
floating_ips quota; associated with an instance's address through a router
of the account (a task re-applies the router); refusals write nothing."""

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


@pytest.fixture
def allocate(client, member):
    def post(caller=member, **body):
        body.setdefault("network", "public")
        return client.post(
            "/v1/floating_ips", headers=caller.headers, json=body
        )

    return post


@pytest.fixture
def routed(client, member, create, external, network, make_router, scheduler):
    """An instance of the member on a network joined to `public` by a
    router: (router, instance, its address)."""
    ext = external()
    net = network()
    router = make_router(external_network=ext["id"], networks=[net["id"]])
    inst = create(member, name="web", network=net["id"])
    assert inst.status_code == 202, inst.text
    inst = inst.json()
    return router, inst, inst["addresses"][0]["ip_address"]


def used(account_id):
    with engine.session() as s:
        return s.get(models.Quota, account_id).floating_ips_used


def test_allocate_a_free_or_a_given_address(
    client, member, external, allocate
):
    ext = external()
    r = allocate()
    assert r.status_code == 201, r.text
    f = r.json()
    assert ids.is_valid("floating_ip", f["id"])
    assert (f["network_id"], f["status"], f["instance_id"]) == (
        ext["id"],
        "down",
        None,
    )
    assert f.get("task_id") is None  # a record only
    given = allocate(address="203.0.113.77").json()
    assert given["address"] == "203.0.113.77"
    assert used(member.account_id) == 2
    got = client.get(f"/v1/floating_ips/{f['id']}", headers=member.headers)
    assert got.json()["address"] == f["address"]
    listed = client.get(
        f"/v1/floating_ips?network={ext['id']}", headers=member.headers
    ).json()["items"]
    assert {x["id"] for x in listed} == {f["id"], given["id"]}


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"address": "203.0.113.5"}, 422, "not in the pool"),
        ({"address": "198.51.100.5"}, 422, "not in the pool"),
        ({"address": "203.0.113.1"}, 422, "not in the pool"),
        ({"address": "203.0.113.50"}, 409, "already allocated"),
        ({"network": "tenant"}, 422, "is not external"),
        ({"network": "nowhere"}, 422, "unknown network"),
    ],
)
def test_allocation_refusals_write_nothing(
    member, external, network, allocate, body, status, words
):
    external()
    network(name="tenant")
    assert allocate(address="203.0.113.50").status_code == 201
    before, was = counts(), used(member.account_id)
    err = assert_error(allocate(**body), status)
    assert words in err["message"]
    assert counts() == before and used(member.account_id) == was


def test_quota_is_429_and_a_release_gives_it_back(
    client, config, member, external, allocate
):
    config("floating_ips", 1, group="quota")
    external()
    f = allocate().json()
    err = assert_error(allocate(), 429)
    assert err["details"]["resource"] == "floating_ips"
    r = client.delete(f"/v1/floating_ips/{f['id']}", headers=member.headers)
    assert r.status_code == 204, r.text
    assert used(member.account_id) == 0
    assert allocate().status_code == 201


def test_an_exhausted_pool_is_409(member, make_user, external, allocate):
    external(dhcp_ranges=[["203.0.113.10", "203.0.113.11"]])
    assert allocate().status_code == 201
    assert allocate(make_user("member")).status_code == 201
    err = assert_error(allocate(), 409)
    assert "exhausted" in err["message"]
    assert used(member.account_id) == 1


def test_another_accounts_floating_ip_is_404(
    client, make_user, external, allocate
):
    external()
    f = allocate().json()
    other = make_user("member")
    url = f"/v1/floating_ips/{f['id']}"
    assert_error(client.get(url, headers=other.headers), 404)
    assert_error(client.delete(url, headers=other.headers), 404)
    assert_error(
        client.post(
            f"{url}/actions", headers=other.headers, json={"disassociate": {}}
        ),
        404,
    )
    listed = client.get("/v1/floating_ips", headers=other.headers).json()
    assert listed["items"] == []


def test_associate_disassociate_release(
    client, member, allocate, routed, l3_scheduler
):
    router, inst, fixed = routed
    f = allocate().json()
    url = f"/v1/floating_ips/{f['id']}"
    r = client.post(
        f"{url}/actions",
        headers=member.headers,
        json={"associate": {"instance": "web"}},
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["status"], body["instance_id"], body["fixed_address"]) == (
        "active",
        inst["id"],
        fixed,
    )
    assert body["router_id"] == router["id"]
    assert l3_scheduler.casts[-1] == (
        "sync_router",
        body["task_id"],
        router["id"],
    )
    with engine.session() as s:
        msg = routing.router_message(s, router["id"])
    assert msg["floating_ips"] == [
        {"address": f["address"], "fixed_address": fixed}
    ]
    shown = client.get(f"/v1/instances/{inst['id']}", headers=member.headers)
    assert shown.json()["addresses"][0]["floating_ip"] == f["address"]
    got = client.get(f"/v1/routers/{router['id']}", headers=member.headers)
    assert got.json()["floating_ips"] == 1
    listed = client.get(
        f"/v1/floating_ips?instance={inst['id']}", headers=member.headers
    ).json()["items"]
    assert [x["id"] for x in listed] == [f["id"]]
    # The router stays while it carries the address.
    err = assert_error(
        client.delete(f"/v1/routers/{router['id']}", headers=member.headers),
        409,
    )
    assert f["id"] in err["message"]
    r = client.post(
        f"{url}/actions", headers=member.headers, json={"disassociate": {}}
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "down"
    assert l3_scheduler.casts[-1] == (
        "sync_router",
        r.json()["task_id"],
        router["id"],
    )
    shown = client.get(f"/v1/instances/{inst['id']}", headers=member.headers)
    assert "floating_ip" not in shown.json()["addresses"][0]
    assert_error(
        client.post(
            f"{url}/actions", headers=member.headers, json={"disassociate": {}}
        ),
        409,
    )
    # Released while associated: the router drops it (a task).
    client.post(
        f"{url}/actions",
        headers=member.headers,
        json={"associate": {"instance": inst["id"], "ip_address": fixed}},
    )
    r = client.delete(url, headers=member.headers)
    assert r.status_code == 202, r.text
    assert l3_scheduler.casts[-1] == (
        "sync_router",
        r.json()["task_id"],
        router["id"],
    )
    with engine.session() as s:
        assert routing.router_message(s, router["id"])["floating_ips"] == []
    assert_error(client.get(url, headers=member.headers), 404)
    assert used(member.account_id) == 0


@pytest.mark.parametrize(
    "case, status, words",
    [
        ("other_instance", 404, "not found"),
        ("no_router", 409, "no router of yours joins"),
        ("port_taken", 409, "already has floating IP"),
        ("not_its_address", 422, "has no address"),
        ("both", 422, "exactly one"),
        ("neither", 422, "exactly one"),
    ],
)
def test_association_refusals_write_nothing(
    client,
    member,
    make_user,
    create,
    network,
    allocate,
    routed,
    l3_scheduler,
    case,
    status,
    words,
):
    router, inst, fixed = routed
    f = allocate().json()
    body = {"associate": {"instance": inst["id"]}}
    if case == "other_instance":
        other = make_user("member")
        theirs = create(other, name="theirs").json()
        body = {"associate": {"instance": theirs["id"]}}
    elif case == "no_router":
        lone = network(name="lone", cidr="10.60.0.0/24")
        vm = create(member, name="vm2", network=lone["id"]).json()
        body = {"associate": {"instance": vm["id"]}}
    elif case == "port_taken":
        g = allocate().json()
        r = client.post(
            f"/v1/floating_ips/{g['id']}/actions",
            headers=member.headers,
            json=body,
        )
        assert r.status_code == 202, r.text
    elif case == "not_its_address":
        body["associate"]["ip_address"] = "10.99.0.9"
    elif case == "both":
        body["disassociate"] = {}
    elif case == "neither":
        body = {}
    casts = list(l3_scheduler.casts)
    with engine.session() as s:
        tasks_before = s.scalar(sa.select(sa.func.count(models.Task.id)))
    r = client.post(
        f"/v1/floating_ips/{f['id']}/actions",
        headers=member.headers,
        json=body,
    )
    err = assert_error(r, status)
    assert words in err["message"], err
    assert l3_scheduler.casts == casts
    with engine.session() as s:
        row = s.get(models.FloatingIp, f["id"])
        assert (row.port_id, row.router_id) == (None, None)
        assert (
            s.scalar(sa.select(sa.func.count(models.Task.id))) == tasks_before
        )


def test_deleting_the_instances_ports_ends_the_association(
    client, member, allocate, routed, l3_scheduler
):
    router, inst, fixed = routed
    f = allocate().json()
    client.post(
        f"/v1/floating_ips/{f['id']}/actions",
        headers=member.headers,
        json={"associate": {"instance": inst["id"]}},
    )
    with engine.session() as s:
        assert routing.disassociate_instance(s, inst["id"]) == [router["id"]]
    with engine.session() as s:
        row = s.get(models.FloatingIp, f["id"])
        assert (row.port_id, row.instance_id, row.router_id) == (None,) * 3
        assert row.address == f["address"]  # still allocated
