"""/v1/instances: what an instance shows of the spec it was made from (its
unit and unit group, root_gb, every key pair) and `?unit=`."""

import pytest
import sqlalchemy as sa

from arame.common import ids
from arame.common.db import engine, models


def _put_in_unit(account_id, instance_ids):
    ug, un = ids.generate("unit_group"), ids.generate("unit")
    with engine.session() as s:
        s.add(models.UnitGroup(id=ug, name=f"g-{ug}", account_id=account_id))
        s.flush()
        s.add(
            models.Unit(
                id=un,
                name="u",
                account_id=account_id,
                unit_group_id=ug,
                spec={},
            )
        )
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id.in_(instance_ids))
            .values(unit_id=un)
        )
    return ug, un


def test_a_new_instance_shows_no_unit_and_no_sized_root(member, create):
    body = create(member).json()
    assert (body["unit"], body["unit_group"], body["root_gb"]) == (
        None,
        None,
        None,
    )
    assert body["key_pairs"] == [] and body["key_pair"] is None


def test_nodes_show_their_unit_and_group_and_filter_by_unit(
    client, member, create
):
    a, b, c = (create(member, name=n).json()["id"] for n in "abc")
    ug, un = _put_in_unit(member.account_id, [a, b])
    got = client.get(f"/v1/instances/{a}", headers=member.headers).json()
    assert (got["unit"], got["unit_group"]) == (un, ug)
    page = client.get(
        f"/v1/instances?unit={un}", headers=member.headers
    ).json()
    assert sorted(i["id"] for i in page["items"]) == sorted([a, b])
    assert {i["unit_group"] for i in page["items"]} == {ug}
    every = client.get("/v1/instances", headers=member.headers).json()
    by_id = {i["id"]: i for i in every["items"]}
    assert by_id[c]["unit"] is None and by_id[b]["unit_group"] == ug


def test_key_pair_by_name(client, member, create):
    from tests.unit.api.routers.test_key_pairs import ED25519

    kp = client.post(
        "/v1/key_pairs",
        headers=member.headers,
        json={"name": "laptop", "public_key": ED25519},
    ).json()
    body = create(member, key_pair=kp["id"]).json()
    assert body["key_pair"] == kp["id"] and body["key_pairs"] == [kp["id"]]


def _storage_used(account_id):
    with engine.session() as s:
        return s.get(models.Quota, account_id).storage_gb_used


def test_root_gb_makes_a_larger_root_counted_in_storage_gb(
    client, member, create
):
    r = create(member, root_gb=40)
    assert r.status_code == 202, r.text
    assert r.json()["root_gb"] == 40
    with engine.session() as s:
        inst = s.get(models.Instance, r.json()["id"])
        assert (inst.root_gb, inst.disk_gb) == (40, 40)
    assert _storage_used(member.account_id) == 40


@pytest.mark.parametrize("root_gb", [1, 10**5])
def test_root_gb_below_the_flavor_or_over_the_limit_is_422(
    member, create, error_of, root_gb
):
    err = error_of(create(member, root_gb=root_gb), 422, "invalid")
    assert err["details"]["field"] == "root_gb"
    assert err["message"].startswith("root_gb: ")


def test_root_gb_over_the_storage_quota_is_429(
    client, admin, member, create, error_of
):
    r = client.put(
        f"/v1/quotas/{member.account_id}",
        headers=admin.headers,
        json={"storage_gb": 30},
    )
    assert r.status_code == 200, r.text
    err = error_of(create(member, root_gb=40), 429)
    assert err["details"]["resource"] == "storage_gb"
