"""/v1/networks: address plans checked, segment ids unique, shared networks
for every account, and a network in use cannot go."""

import pytest
import sqlalchemy as sa

from arame.common import ids
from arame.common.db import engine, models
from tests.unit.api.conftest import assert_error

BODY = {
    "name": "net1",
    "cidr": "10.10.0.0/24",
    "dns_domain": "Lab.Example",
    "segmentation": "vxlan",
}


@pytest.fixture
def post(client):
    def post(caller, **body):
        return client.post(
            "/v1/networks", headers=caller.headers, json={**BODY, **body}
        )

    return post


def test_create_fills_in_the_plan_and_a_segment(client, member, post):
    r = post(member)
    assert r.status_code == 201, r.text
    net = r.json()
    assert ids.is_valid("network", net["id"])
    assert net["account_id"] == member.account_id and net["shared"] is False
    assert (net["ip_version"], net["cidr"], net["gateway"]) == (
        4,
        "10.10.0.0/24",
        "10.10.0.1",
    )
    # The last host is the DHCP server's: the gateway is a router's.
    assert net["dhcp_ranges"] == [["10.10.0.2", "10.10.0.253"]]
    assert net["dhcp_address"] == "10.10.0.254"
    assert (net["external"], net["physical_network"]) == (False, None)
    assert net["dns_domain"] == "lab.example"
    assert net["segmentation"] == "vxlan" and net["mtu"] == 1450
    assert 1000 <= net["segment_id"] <= 16777215
    assert (
        client.get(f"/v1/networks/{net['id']}", headers=member.headers).json()
        == net
    )


def test_vlan_gets_a_vlan_id_and_mtu_1500(post, admin):
    net = post(admin, segmentation="vlan").json()
    assert 1 <= net["segment_id"] <= 4094 and net["mtu"] == 1500


def test_given_values_are_kept(post, member):
    r = post(
        member,
        gateway="10.10.0.254",
        segment_id=4242,
        mtu=1400,
        dhcp_ranges=[["10.10.0.100", "10.10.0.150"]],
    )
    assert r.status_code == 201, r.text
    net = r.json()
    assert (net["gateway"], net["segment_id"], net["mtu"]) == (
        "10.10.0.254",
        4242,
        1400,
    )
    assert net["dhcp_ranges"] == [["10.10.0.100", "10.10.0.150"]]
    # the highest host outside the ranges and not the gateway
    assert net["dhcp_address"] == "10.10.0.253"


def test_segment_ids_are_unique_per_segmentation(post, member, make_user):
    assert post(member, name="a", segment_id=7000).status_code == 201
    other = make_user("member")
    err = assert_error(post(other, name="b", segment_id=7000), 409, "conflict")
    assert "segment 7000" in err["message"]
    # The same number on the other kind of segment is another segment.
    assert (
        post(other, name="c", segmentation="vlan", segment_id=7000).status_code
        == 422
    )  # above 4094
    assert (
        post(other, name="c", segmentation="vlan", segment_id=70).status_code
        == 201
    )
    assert (
        post(other, name="d", segmentation="vxlan", segment_id=70).status_code
        == 201
    )


def test_automatic_segment_ids_run_out_with_a_clear_409(config, post, member):
    config("vlan_id_min", 10, group="network")
    config("vlan_id_max", 11, group="network")
    got = {
        post(member, name=f"v{i}", segmentation="vlan").json()["segment_id"]
        for i in range(2)
    }
    assert got == {10, 11}
    err = assert_error(post(member, name="v3", segmentation="vlan"), 409)
    assert "no free vlan segment id" in err["message"]


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"cidr": "10.10.0.5/24"}, "cidr", "host bits"),
        ({"cidr": "10.0.0.0/8"}, "cidr", "/16../29"),
        (
            {"cidr": "fd00:1::/64"},
            "cidr",
            "IPv6 networks are not supported yet",
        ),
        ({"gateway": "10.11.0.1"}, "gateway", "outside"),
        (
            {
                "dhcp_ranges": [
                    ["10.10.0.10", "10.10.0.20"],
                    ["10.10.0.20", "10.10.0.30"],
                ]
            },
            "dhcp_ranges",
            "overlaps",
        ),
        (
            {"dhcp_ranges": [["10.10.0.1", "10.10.0.20"]]},
            "dhcp_ranges",
            "gateway",
        ),
        (
            {"dhcp_ranges": [["10.10.0.10", "10.10.1.20"]]},
            "dhcp_ranges",
            "outside",
        ),
    ],
)
def test_bad_plans_are_422_with_the_field(post, member, body, field, words):
    err = assert_error(post(member, **body), 422, "invalid")
    assert err["details"]["field"] == field
    assert words in err["message"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"dns_domain": "-bad.example"}, "dns_domain"),
        ({"dns_domain": "a..b"}, "dns_domain"),
        ({"dns_domain": "x" * 64 + ".example"}, "dns_domain"),
        ({"dns_domain": "under_score.example"}, "dns_domain"),
        ({"segmentation": "gre"}, "segmentation"),
        ({"segment_id": 0}, "segment_id"),
        ({"mtu": 100}, "mtu"),
        ({"dhcp_ranges": [["10.10.0.2"]]}, "dhcp_ranges.0"),
        ({"colour": "blue"}, "colour"),
        ({"name": "bad name"}, "name"),
    ],
)
def test_malformed_fields_are_422(post, member, body, field):
    err = assert_error(post(member, **body), 422, "invalid")
    assert field in [f["field"] for f in err["details"]["fields"]]


def test_missing_fields_are_422(client, member):
    err = assert_error(
        client.post(
            "/v1/networks", headers=member.headers, json={"name": "n"}
        ),
        422,
    )
    assert {f["field"] for f in err["details"]["fields"]} == {
        "cidr",
        "dns_domain",
        "segmentation",
    }


def test_names_are_unique_per_account(post, member, make_user):
    assert post(member).status_code == 201
    assert_error(post(member, segment_id=9999), 409, "conflict")
    assert post(make_user("member")).status_code == 201


def test_only_an_admin_makes_shared_networks_and_all_see_them(
    client, post, admin, member, make_user
):
    assert_error(post(member, shared=True), 403, "forbidden")
    shared = post(admin, name="pub", shared=True).json()
    assert shared["shared"] is True
    mine = post(member, name="mine").json()
    other = make_user("member")
    theirs = post(other, name="theirs").json()
    listed = {
        n["id"]
        for n in client.get("/v1/networks", headers=member.headers).json()[
            "items"
        ]
    }
    assert listed == {shared["id"], mine["id"]}
    assert (
        client.get(
            f"/v1/networks/{shared['id']}", headers=member.headers
        ).status_code
        == 200
    )
    assert_error(
        client.get(f"/v1/networks/{theirs['id']}", headers=member.headers), 404
    )
    assert_error(
        client.delete(f"/v1/networks/{theirs['id']}", headers=member.headers),
        404,
    )
    # Visible is not owned: a member cannot delete the shared network.
    assert_error(
        client.delete(f"/v1/networks/{shared['id']}", headers=member.headers),
        403,
    )
    everything = {
        n["id"]
        for n in client.get("/v1/networks", headers=admin.headers).json()[
            "items"
        ]
    }
    assert everything == {shared["id"], mine["id"], theirs["id"]}


def test_reader_reads_but_cannot_change(client, post, member, make_user):
    net = post(member).json()
    reader = make_user("reader", account_id=member.account_id)
    assert (
        client.get(
            f"/v1/networks/{net['id']}", headers=reader.headers
        ).status_code
        == 200
    )
    assert_error(post(reader, name="r"), 403)
    assert_error(
        client.delete(f"/v1/networks/{net['id']}", headers=reader.headers), 403
    )


def test_list_filters_by_name_and_pages(client, post, member):
    for i in range(3):
        post(member, name=f"web-{i}", cidr=f"10.{i}.0.0/24")
    post(member, name="db", cidr="10.9.0.0/24")
    page = client.get(
        "/v1/networks?name=web-*&limit=2", headers=member.headers
    ).json()
    assert [n["name"] for n in page["items"]] == ["web-0", "web-1"]
    rest = client.get(
        f"/v1/networks?name=web-*&marker={page['next_marker']}",
        headers=member.headers,
    ).json()
    assert [n["name"] for n in rest["items"]] == ["web-2"]
    assert rest["next_marker"] is None


def test_unknown_and_malformed_ids_are_404(client, member):
    for nid in ("nw-00000000", "NW-ABCDEFGH", "x"):
        assert_error(
            client.get(f"/v1/networks/{nid}", headers=member.headers),
            404,
            "not_found",
        )


def test_delete_refuses_while_instances_hold_addresses(
    client, post, member, create
):
    net = post(member, cidr="10.20.0.0/29").json()
    inst = create(member, network=net["id"]).json()
    err = assert_error(
        client.delete(f"/v1/networks/{net['id']}", headers=member.headers),
        409,
        "conflict",
    )
    assert inst["id"] in err["message"]
    assert err["details"]["instances"] == [inst["id"]]
    # A terminated instance whose release was missed does not hold it.
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == inst["id"])
            .values(status="terminated")
        )
    assert (
        client.delete(
            f"/v1/networks/{net['id']}", headers=member.headers
        ).status_code
        == 204
    )
    assert_error(
        client.get(f"/v1/networks/{net['id']}", headers=member.headers), 404
    )
    with engine.session() as s:
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(models.Port)) == 0
        )


def test_idempotency_key_creates_once(client, member):
    h = {**member.headers, "Idempotency-Key": "net-1"}
    first = client.post("/v1/networks", headers=h, json=BODY)
    again = client.post("/v1/networks", headers=h, json=BODY)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert (
        len(client.get("/v1/networks", headers=member.headers).json()["items"])
        == 1
    )


EXT = {
    "name": "public",
    "cidr": "203.0.113.0/24",
    "dns_domain": "public.example",
    "segmentation": "flat",
    "external": True,
    "physical_network": "public",
    "dhcp_ranges": [["203.0.113.10", "203.0.113.200"]],
}


def test_an_admin_makes_an_external_flat_network_every_account_sees(
    client, admin, member, post
):
    r = client.post("/v1/networks", headers=admin.headers, json=EXT)
    assert r.status_code == 201, r.text
    ext = r.json()
    assert (ext["external"], ext["segmentation"], ext["segment_id"]) == (
        True,
        "flat",
        None,
    )
    assert (ext["physical_network"], ext["dhcp_address"]) == ("public", None)
    assert ext["dhcp_ranges"] == [["203.0.113.10", "203.0.113.200"]]
    listed = client.get("/v1/networks", headers=member.headers).json()
    assert ext["id"] in {n["id"] for n in listed["items"]}
    got = client.get(f"/v1/networks/{ext['id']}", headers=member.headers)
    assert got.status_code == 200 and got.json()["external"] is True
    # Its owner alone (an admin) deletes it.
    assert_error(
        client.delete(f"/v1/networks/{ext['id']}", headers=member.headers),
        403,
    )


def test_a_second_flat_network_has_no_segment_to_collide_on(client, admin):
    for i, cidr in enumerate(("203.0.113.0/24", "198.51.100.0/24")):
        r = client.post(
            "/v1/networks",
            headers=admin.headers,
            json={**EXT, "name": f"pub{i}", "cidr": cidr, "dhcp_ranges": None},
        )
        assert r.status_code == 201, r.text
        # no DHCP on an external network: every host but the gateway
        assert r.json()["dhcp_address"] is None


@pytest.mark.parametrize(
    "caller, body, status, field, words",
    [
        ("member", {}, 403, None, "networks:create_external"),
        (
            "admin",
            {"physical_network": None},
            422,
            "physical_network",
            "needs",
        ),
        ("admin", {"segment_id": 5}, 422, "segment_id", "no segment id"),
        (
            "admin",
            {"external": False, "physical_network": None},
            422,
            "segmentation",
            "external networks only",
        ),
        (
            "admin",
            {"external": False, "segmentation": "vxlan"},
            422,
            "physical_network",
            "only an external network",
        ),
    ],
)
def test_external_network_checks(
    client, admin, member, caller, body, status, field, words
):
    who = {"admin": admin, "member": member}[caller]
    r = client.post("/v1/networks", headers=who.headers, json={**EXT, **body})
    err = assert_error(r, status)
    assert words in err["message"]
    if field:
        assert err["details"]["field"] == field
    with engine.session() as s:
        assert s.scalar(sa.select(sa.func.count(models.Network.id))) == 0


def test_a_bad_physical_network_name_is_422(client, admin):
    r = client.post(
        "/v1/networks",
        headers=admin.headers,
        json={**EXT, "physical_network": "Eth 1"},
    )
    err = assert_error(r, 422)
    assert "physical network name" in err["message"]


def test_instances_do_not_join_an_external_network(client, admin, create):
    ext = client.post("/v1/networks", headers=admin.headers, json=EXT).json()
    err = assert_error(create(admin, network=ext["id"]), 422)
    assert "is external" in err["message"]
    assert err["details"]["field"] == "network"
