"""Tags: given at create, shown, replaced with PUT .../tags by the owner or
an admin, bounded and checked, and filtered on with ?tag= (all must
match)."""

import pytest

from tests.unit.api.conftest import assert_error

NET = {
    "name": "net1",
    "cidr": "10.30.0.0/24",
    "dns_domain": "lab.example",
    "segmentation": "vxlan",
}


@pytest.fixture
def kinds(client, create):
    """kind -> make(caller, name, tags) returning the created resource."""

    def instance(caller, name, tags):
        r = create(caller, name=name, tags=tags)
        assert r.status_code == 202, r.text
        return r.json()

    def network(caller, name, tags):
        r = client.post(
            "/v1/networks",
            headers=caller.headers,
            json={**NET, "name": name, "tags": tags},
        )
        assert r.status_code == 201, r.text
        return r.json()

    def security_group(caller, name, tags):
        r = client.post(
            "/v1/security_groups",
            headers=caller.headers,
            json={"name": name, "tags": tags},
        )
        assert r.status_code == 201, r.text
        return r.json()

    return {
        "instances": instance,
        "networks": network,
        "security_groups": security_group,
    }


KINDS = ["instances", "networks", "security_groups"]


@pytest.mark.parametrize("kind", KINDS)
def test_tags_at_create_shown_and_filtered(client, member, kinds, kind):
    make = kinds[kind]
    a = make(member, "a", ["web", "env=prod", "web"])
    assert a["tags"] == ["env=prod", "web"]
    make(member, "b", ["web"])
    make(member, "c", [])
    assert (
        client.get(f"/v1/{kind}/{a['id']}", headers=member.headers).json()[
            "tags"
        ]
        == a["tags"]
    )

    def names(*tags):
        r = client.get(
            f"/v1/{kind}", headers=member.headers, params={"tag": list(tags)}
        )
        assert r.status_code == 200, r.text
        return sorted(x["name"] for x in r.json()["items"])

    assert names("web") == ["a", "b"]
    assert names("web", "env=prod") == ["a"]
    assert names("nope") == []


@pytest.mark.parametrize("kind", KINDS)
def test_put_replaces_for_owner_and_admin_only(
    client, member, admin, make_user, kinds, kind
):
    res = kinds[kind](member, "a", ["old"])
    url = f"/v1/{kind}/{res['id']}/tags"
    r = client.put(url, headers=member.headers, json={"tags": ["x", "y"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": res["id"], "tags": ["x", "y"]}
    assert client.get(
        f"/v1/{kind}/{res['id']}", headers=member.headers
    ).json()["tags"] == ["x", "y"]
    assert (
        client.put(url, headers=admin.headers, json={"tags": []}).json()[
            "tags"
        ]
        == []
    )
    reader = make_user("reader", account_id=member.account_id)
    assert_error(
        client.put(url, headers=reader.headers, json={"tags": ["z"]}),
        403,
        "forbidden",
    )
    other = make_user("member")
    assert_error(
        client.put(url, headers=other.headers, json={"tags": ["z"]}),
        404,
        "not_found",
    )


@pytest.mark.parametrize(
    "tags",
    [
        ["-lead"],
        ["sp ace"],
        ["x" * 64],
        ["é"],
        [""],
        [1],
        [f"t{i}" for i in range(51)],
    ],
)
def test_bad_tags_are_422(client, member, kinds, tags):
    inst = kinds["security_groups"](member, "g", [])
    assert_error(
        client.put(
            f"/v1/security_groups/{inst['id']}/tags",
            headers=member.headers,
            json={"tags": tags},
        ),
        422,
        "invalid",
    )
    assert_error(
        client.post(
            "/v1/networks", headers=member.headers, json={**NET, "tags": tags}
        ),
        422,
        "invalid",
    )


def test_fifty_tags_of_63_characters_fit(client, member, kinds):
    tags = [f"{i:02d}" + "x" * 61 for i in range(50)]
    assert kinds["networks"](member, "n", tags)["tags"] == tags


def test_bad_tag_filter_is_422(client, member):
    assert_error(
        client.get("/v1/instances?tag=a%20b", headers=member.headers),
        422,
        "invalid",
    )


def test_tags_are_case_sensitive(client, member, kinds):
    kinds["networks"](member, "n", ["Web", "web"])
    r = client.get("/v1/networks?tag=WEB", headers=member.headers)
    assert r.json()["items"] == []


def test_deleting_a_group_removes_its_tags(client, member, kinds):
    from arame.common.db import engine, models

    g = kinds["security_groups"](member, "g", ["a", "b"])
    assert (
        client.delete(
            f"/v1/security_groups/{g['id']}", headers=member.headers
        ).status_code
        == 204
    )
    with engine.session() as s:
        assert (
            s.query(models.ResourceTag).filter_by(resource_id=g["id"]).count()
            == 0
        )
