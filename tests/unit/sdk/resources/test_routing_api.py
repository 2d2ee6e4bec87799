"""client.routers and client.floating_ips against the real API in process
(a seeded SQLite cloud; the scheduler's casts recorded, no flow runs): the
SDK's paths, bodies, names and answers are the server's."""

import pytest

from arame.sdk import ArameError, Client
from tests.unit.api.conftest import (  # noqa: F401
    admin,
    client,
    create,
    fast_hashes,
    make_client,
    make_user,
    member,
    scheduler,
)
from tests.unit.api.routers.routing_fixtures import l3_scheduler  # noqa: F401

PUBLIC = {
    "external": True,
    "physical_network": "public",
    "dhcp_ranges": [["203.0.113.10", "203.0.113.200"]],
    "gateway": "203.0.113.1",
}


def sdk_of(test_client, caller) -> Client:
    token = caller.headers["Authorization"].split()[1]
    # TestClient is an httpx client: its transport runs the app in process.
    return Client(
        str(test_client.base_url),
        token=token,
        transport=test_client._transport,
    )


@pytest.fixture
def as_admin(client, admin):  # noqa: F811
    with sdk_of(client, admin) as c:
        yield c


@pytest.fixture
def as_member(client, member):  # noqa: F811
    with sdk_of(client, member) as c:
        yield c


@pytest.fixture
def lab(as_admin, as_member):
    """The external network `public` (admin's), the member's `lab` and
    `db`."""
    ext = as_admin.networks.create(
        "public", "203.0.113.0/24", "public.example", "flat", **PUBLIC
    )
    assert (ext["external"], ext["segment_id"]) == (True, None)
    nets = [
        as_member.networks.create(name, cidr, "t.lab")
        for name, cidr in (("lab", "10.30.0.0/24"), ("db", "10.31.0.0/24"))
    ]
    return ext, *nets


def test_a_router_made_and_changed_by_names(as_member, lab, l3_scheduler):  # noqa: F811
    ext, net, db = lab
    routers = as_member.routers

    made = routers.create("edge", external_network="public", networks=["lab"])

    assert made["status"] == "building" and made["task_id"]
    assert made["external_network"] == ext["id"]
    assert [n["id"] for n in made["networks"]] == [net["id"]]
    assert (
        routers.get("edge")["external_address"] == (made["external_address"])
    )
    assert [r["name"] for r in routers.list(all=True)] == ["edge"]

    added = routers.add_network("edge", "db")
    assert {n["id"] for n in added["networks"]} == {net["id"], db["id"]}
    removed = routers.remove_network("edge", "lab")
    assert [n["id"] for n in removed["networks"]] == [db["id"]]
    assert routers.unset_gateway("edge")["external_address"] is None
    assert (
        routers.set_gateway("edge", "public")["external_network"]
        == (ext["id"])
    )
    assert routers.update("edge", name="edge-1")["name"] == "edge-1"
    gone = routers.delete("edge-1")
    assert gone["id"] == made["id"] and gone["task_id"]

    assert [c[0] for c in l3_scheduler.casts] == ["sync_router"] * 6 + [
        "delete_router"
    ]


def test_a_refusal_names_the_problem(as_member, lab, l3_scheduler):  # noqa: F811
    as_member.routers.create("edge", networks=["lab"])

    with pytest.raises(ArameError) as caught:
        as_member.routers.create("other", networks=["lab"])

    assert caught.value.status_code == 409
    net = lab[1]["id"]
    assert f"network {net} is already attached to router" in (
        caught.value.message
    )
    assert [r["name"] for r in as_member.routers.list()] == ["edge"]


def test_a_floating_ip_from_allocation_to_release(
    as_member,
    lab,
    create,  # noqa: F811
    member,  # noqa: F811
    l3_scheduler,  # noqa: F811
):
    ext, net, _ = lab
    as_member.routers.create(
        "edge", external_network="public", networks=["lab"]
    )
    inst = create(member, name="web", network=net["id"])
    assert inst.status_code == 202, inst.text
    fixed = inst.json()["addresses"][0]["ip_address"]
    fips = as_member.floating_ips

    fip = fips.allocate("public", address="203.0.113.120")
    assert (fip["status"], fip["network_id"]) == ("down", ext["id"])
    assert fips.get("203.0.113.120")["id"] == fip["id"]

    done = fips.associate("203.0.113.120", "web")
    assert done["task_id"] and done["fixed_address"] == fixed
    assert [f["id"] for f in fips.list(instance="web")] == [fip["id"]]
    assert [f["id"] for f in fips.list(network="public")] == [fip["id"]]
    [address] = as_member.instances.get("web")["addresses"]
    assert address["floating_ip"] == "203.0.113.120"
    with pytest.raises(ArameError) as caught:
        as_member.routers.delete("edge")
    assert caught.value.status_code == 409

    assert fips.disassociate(fip["id"])["instance_id"] is None
    assert fips.release("203.0.113.120") == {}
    assert fips.list(all=True) == []
