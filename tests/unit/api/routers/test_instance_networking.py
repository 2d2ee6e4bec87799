"""Instance create with networks and security groups: the address is taken
in the request's transaction (a conflict is a 409 before the 202 and writes
nothing), and the instance shows its addresses and groups."""

import ipaddress

import pytest
import sqlalchemy as sa

from arame.common.db import engine, models, seed
from tests.unit.api.conftest import assert_error


def counts():
    with engine.session() as s:

        def n(m):
            return s.scalar(sa.select(sa.func.count()).select_from(m))

        return {
            "instances": n(models.Instance),
            "tasks": n(models.Task),
            "ports": n(models.Port),
        }


def quota_used(account_id):
    with engine.session() as s:
        return s.get(models.Quota, account_id).instances_used


@pytest.fixture
def network(client, member):
    """network(caller=member, **body) -> a new network's answer."""

    def make(caller=member, **body):
        body = {
            "name": "n1",
            "cidr": "10.30.0.0/24",
            "dns_domain": "t.lab",
            "segmentation": "vxlan",
            **body,
        }
        r = client.post("/v1/networks", headers=caller.headers, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    return make


def default_group(client, caller):
    items = client.get(
        "/v1/security_groups?name=default", headers=caller.headers
    ).json()["items"]
    return items[0]["id"]


def test_without_a_default_network_there_is_no_nic(client, member, create):
    r = create(member)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["addresses"] == []
    assert body["security_groups"] == [default_group(client, member)]


def test_seeded_default_network_is_used_when_none_is_named(
    client, member, create, scheduler
):
    net_id = seed.seed_default_network()
    assert seed.seed_default_network() == net_id  # idempotent
    body = create(member, name="Web_1.a").json()
    (addr,) = body["addresses"]
    assert addr["network_id"] == net_id
    assert ipaddress.ip_address(addr["ip_address"]) in ipaddress.ip_network(
        "10.200.0.0/24"
    )
    assert addr["ip_address"] != "10.200.0.1"
    assert addr["mac_address"].startswith("52:54:00:")
    assert addr["hostname"] == body["hostname"] == "web-1-a"
    got = client.get(f"/v1/instances/{body['id']}", headers=member.headers)
    assert got.json()["addresses"] == [addr]
    listed = client.get("/v1/instances", headers=member.headers).json()
    assert listed["items"][0]["addresses"] == [addr]
    assert listed["items"][0]["security_groups"] == body["security_groups"]
    net = client.get(f"/v1/networks/{net_id}", headers=member.headers).json()
    assert (net["shared"], net["dns_domain"], net["segmentation"]) == (
        True,
        "arame.internal",
        "vxlan",
    )


def test_named_network_own_or_shared_only(
    client, member, make_user, admin, create, network
):
    mine = network()
    shared = network(admin, name="pub", cidr="10.31.0.0/24", shared=True)
    theirs = network(make_user("member"), name="x", cidr="10.32.0.0/24")
    assert (
        create(member, network=mine["id"]).json()["addresses"][0]["network_id"]
        == mine["id"]
    )
    assert (
        create(member, network=shared["id"]).json()["addresses"][0][
            "network_id"
        ]
        == shared["id"]
    )
    for nid in (theirs["id"], "nw-00000000"):
        err = assert_error(create(member, network=nid), 422)
        assert err["details"]["field"] == "network"


def test_fixed_address_then_409_for_the_second_with_nothing_written(
    member, create, network, scheduler
):
    net = network()
    first = create(member, network=net["id"], ip_address="10.30.0.50")
    assert first.status_code == 202, first.text
    assert first.json()["addresses"][0]["ip_address"] == "10.30.0.50"
    before, used = counts(), quota_used(member.account_id)
    err = assert_error(
        create(
            member, name="web-2", network=net["id"], ip_address="10.30.0.50"
        ),
        409,
        "conflict",
    )
    assert "10.30.0.50 is already in use" in err["message"]
    assert counts() == before and quota_used(member.account_id) == used
    assert scheduler.methods() == ["build_instance"]


@pytest.mark.parametrize(
    "ip, words",
    [
        ("10.31.0.5", "outside"),
        ("10.30.0.1", "gateway"),
        ("10.30.0.254", "the DHCP server's address"),
        ("10.30.0.255", "outside the DHCP ranges"),
        ("nonsense", "not an IP"),
    ],
)
def test_fixed_address_the_network_cannot_give_is_422(
    member, create, network, ip, words
):
    net = network()
    err = assert_error(create(member, network=net["id"], ip_address=ip), 422)
    assert words in err["message"] and err["details"]["field"] == "ip_address"
    assert counts()["instances"] == 0


def test_fixed_address_needs_a_network(member, create):
    err = assert_error(create(member, ip_address="10.0.0.5"), 422)
    assert err["details"]["field"] == "ip_address"


def test_full_network_is_a_clear_409_and_takes_no_quota(
    member, create, network
):
    # 4 addresses to give: not the gateway, not the DHCP address
    net = network(cidr="10.30.0.0/29")
    got = {
        create(member, name=f"vm{i}", network=net["id"]).json()["addresses"][
            0
        ]["ip_address"]
        for i in range(4)
    }
    assert len(got) == 4
    used = quota_used(member.account_id)
    err = assert_error(create(member, name="vm4", network=net["id"]), 409)
    assert err["message"] == f"network {net['id']} has no free address"
    assert quota_used(member.account_id) == used
    assert counts()["instances"] == 4


def test_security_groups_of_the_account_in_the_order_asked(
    client, member, make_user, create
):
    def group(caller, name):
        return client.post(
            "/v1/security_groups", headers=caller.headers, json={"name": name}
        ).json()["id"]

    a, b = group(member, "a"), group(member, "b")
    body = create(member, security_groups=[b, a, b]).json()
    assert body["security_groups"] == [b, a]
    got = client.get(f"/v1/instances/{body['id']}", headers=member.headers)
    assert got.json()["security_groups"] == [b, a]
    theirs = group(make_user("member"), "t")
    for bad in ([theirs], [a, "sg-00000000"]):
        err = assert_error(create(member, security_groups=bad), 422)
        assert err["details"]["field"] == "security_groups"
    err = assert_error(create(member, security_groups=[a] * 6), 422)
    assert err["details"]["fields"][0]["field"] == "security_groups"


def test_default_group_is_shared_by_the_account_instances(
    client, member, create
):
    one = create(member, name="a").json()["security_groups"]
    two = create(member, name="b").json()["security_groups"]
    assert one == two == [default_group(client, member)]


def test_delete_answer_still_shows_the_addresses(
    client, member, create, network, scheduler
):
    net = network()
    inst = create(member, network=net["id"]).json()
    r = client.delete(f"/v1/instances/{inst['id']}", headers=member.headers)
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "shuttingdown"
    assert body["addresses"] == inst["addresses"]
    assert body["security_groups"] == inst["security_groups"]
