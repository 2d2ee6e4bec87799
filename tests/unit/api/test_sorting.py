"""`?sort=[-]<field>` on list routes: the order asked, ties broken by id,
and marker pagination that walks the same order without gaps or repeats."""

import datetime as dt

import pytest

from arame.common import ids
from arame.common.db import engine, models
from tests.unit.api.conftest import assert_error

NET = {
    "cidr": "10.20.0.0/24",
    "dns_domain": "lab.example",
    "segmentation": "vxlan",
}


def walk(client, caller, path, **params):
    """Every item of a list, page by page (limit 2)."""
    items, marker = [], None
    for _ in range(50):
        q = dict(params, limit=2)
        if marker:
            q["marker"] = marker
        r = client.get(path, headers=caller.headers, params=q)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        marker = body["next_marker"]
        if marker is None:
            return items
    raise AssertionError("pagination did not end")


@pytest.fixture
def key_pairs(member):
    """Key pairs with names in no particular order and shared created_at
    (ties), written directly so their times are exact."""
    t0 = dt.datetime(2026, 1, 1)
    names = ["delta", "alpha", "charlie", "bravo", "echo", "alpha2"]
    with engine.session() as s:
        for i, name in enumerate(names):
            s.add(
                models.KeyPair(
                    id=ids.generate("key_pair"),
                    name=name,
                    account_id=member.account_id,
                    user_id=member.user_id,
                    type="ssh-ed25519",
                    public_key=f"ssh-ed25519 AAAA{i}",
                    fingerprint=f"fp{i}",
                    created_at=t0 + dt.timedelta(seconds=i // 2),
                    updated_at=t0,
                )
            )
    return names


@pytest.mark.parametrize("sort", ["name", "-name"])
def test_sort_by_name_both_ways(client, member, key_pairs, sort):
    got = [k["name"] for k in walk(client, member, "/v1/key_pairs", sort=sort)]
    assert got == sorted(key_pairs, reverse=sort.startswith("-"))


@pytest.mark.parametrize("sort", ["created_at", "-created_at"])
def test_ties_are_broken_by_id_and_pages_do_not_overlap(
    client, member, key_pairs, sort
):
    got = walk(client, member, "/v1/key_pairs", sort=sort)
    keys = [(k["created_at"], k["id"]) for k in got]
    assert keys == sorted(keys, reverse=sort.startswith("-"))
    assert len({k["id"] for k in got}) == len(key_pairs)


def test_default_order_is_unchanged(client, member, key_pairs):
    got = walk(client, member, "/v1/key_pairs")
    keys = [(k["created_at"], k["id"]) for k in got]
    assert keys == sorted(keys)


def test_unknown_field_is_422_listing_the_allowed_ones(client, member):
    err = assert_error(
        client.get("/v1/key_pairs?sort=fingerprint", headers=member.headers),
        422,
        "invalid",
    )
    assert err["details"]["fields"][0]["field"] == "sort"
    assert "'name'" in err["message"] and "'-created_at'" in err["message"]


def test_networks_sort_by_name_with_tag_filter(client, member):
    for name in ("b", "c", "a"):
        r = client.post(
            "/v1/networks",
            headers=member.headers,
            json={**NET, "name": name, "tags": ["env=prod"]},
        )
        assert r.status_code == 201, r.text
    client.post(
        "/v1/networks", headers=member.headers, json={**NET, "name": "d"}
    )
    got = walk(client, member, "/v1/networks", sort="-name", tag="env=prod")
    assert [n["name"] for n in got] == ["c", "b", "a"]


def test_tasks_default_newest_first_and_sortable(client, member, create):
    for i in range(3):
        assert create(member, name=f"web-{i}").status_code == 202
    newest = walk(client, member, "/v1/tasks")
    oldest = walk(client, member, "/v1/tasks", sort="created_at")
    assert [t["id"] for t in newest] == [t["id"] for t in reversed(oldest)]


def test_users_sort_name_is_the_username(client, admin, make_user):
    acct = make_user("member").account_id
    for role in ("reader", "admin", "member"):
        make_user(role, account_id=acct)
    got = walk(client, admin, "/v1/users", account_id=acct, sort="name")
    names = [u["username"] for u in got]
    assert names == sorted(names) and len(names) == 4


def test_instances_sort_by_status(client, member, create):
    for i in range(3):
        assert create(member, name=f"web-{i}").status_code == 202
    with engine.session() as s:
        first = s.query(models.Instance).filter_by(name="web-1").one()
        first.status = "error"
    got = walk(client, member, "/v1/instances", sort="status")
    assert [i["status"] for i in got] == ["error", "pending", "pending"]


def test_usage_sort_by_time_descending(client, admin):
    t0 = dt.datetime(2026, 1, 1)
    with engine.session() as s:
        for i in range(5):
            s.add(
                models.UsageRecord(
                    account_id="a-admin",
                    resource_id=f"i-{i:08d}",
                    resource_type="instance",
                    event="open",
                    at=t0 + dt.timedelta(minutes=(7 * i) % 5),
                )
            )
    got = walk(client, admin, "/v1/usage", sort="-at")
    ats = [(u["at"], u["id"]) for u in got]
    assert ats == sorted(ats, reverse=True) and len(ats) == 5
