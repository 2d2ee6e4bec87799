"""/v1/instances: what an instance shows of the spec it was made from (its
unit and unit group, root_gb, every key pair) and `?unit=`."""

import json

import pytest
import sqlalchemy as sa
import yaml

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


# -- several key pairs -------------------------------------------------------
def _key_pairs(client, caller, n):
    from tests.unit.api.routers.test_key_pairs import ED25519

    out = []
    for i in range(n):
        r = client.post(
            "/v1/key_pairs",
            headers=caller.headers,
            json={"name": f"k{i}"} | ({"public_key": ED25519} if i else {}),
        )
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


def test_several_key_pairs_all_reach_the_config_drive(
    client, member, create, tmp_path
):
    a, b = _key_pairs(client, member, 2)
    body = create(member, key_pairs=[b["id"], a["id"]]).json()
    assert body["key_pair"] == b["id"]
    assert body["key_pairs"] == [b["id"], a["id"]]
    got = client.get(f"/v1/instances/{body['id']}", headers=member.headers)
    assert got.json()["key_pairs"] == [b["id"], a["id"]]
    files = _drive_of(body["id"], tmp_path)
    meta = yaml.safe_load(files["meta-data"])
    assert meta["public-keys"] == [b["public_key"], a["public_key"]]


def test_a_key_pair_deleted_before_the_build_is_left_out(
    client, member, create
):
    a, b = _key_pairs(client, member, 2)
    body = create(member, key_pairs=[a["id"], b["id"]]).json()
    client.delete(f"/v1/key_pairs/{a['id']}", headers=member.headers)
    assert _spec_of(body["id"])["public_keys"] == [b["public_key"]]


def test_key_pair_and_key_pairs_together_is_422(
    client, member, create, error_of
):
    (a,) = _key_pairs(client, member, 1)
    err = error_of(create(member, key_pair=a["id"], key_pairs=[a["id"]]), 422)
    assert err["details"]["field"] == "key_pairs"


def test_an_unknown_key_pair_among_several_is_422(
    client, member, create, error_of
):
    (a,) = _key_pairs(client, member, 1)
    err = error_of(create(member, key_pairs=[a["id"], "kp-zzzzzzzz"]), 422)
    assert err["details"]["field"] == "key_pairs"
    assert "kp-zzzzzzzz" in err["message"]


def test_at_most_ten_key_pairs(member, create, error_of):
    err = error_of(create(member, key_pairs=["kp-aaaaaaaa"] * 11), 422)
    assert err["details"]["fields"][0]["field"] == "key_pairs"


# -- what reaches the guest --------------------------------------------------
def _spec_of(instance_id) -> dict:
    from arame.scheduler.flows import build

    with engine.session() as s:
        inst = s.get(models.Instance, instance_id)
    return build.instance_spec(inst)


def _drive_of(instance_id, tmp_path) -> dict[str, bytes]:
    """The spawn message as it crosses the bus (JSON), and the config drive
    the libvirt driver builds from it (a real ISO, read back)."""
    from arame.agents.hva import configdrive
    from tests.unit.agents.hva.test_configdrive import extract

    spec = json.loads(json.dumps(_spec_of(instance_id), default=str))
    iso = tmp_path / "config.iso"
    configdrive.build(
        str(iso),
        instance_id=spec["id"],
        hostname=spec["hostname"],
        public_keys=spec["public_keys"],
        user_data=spec["user_data"],
    )
    return extract(iso, tmp_path / "drive")


# -- user data up to 96 KiB --------------------------------------------------
def _script(size: int) -> str:
    head = "#!/bin/sh\n# a generated setup script\n"
    body = "".join(f"echo step {i} >> /tmp/log\n" for i in range(size // 20))
    return (head + body)[: size - 1] + "\n"


def test_a_96_kib_script_reaches_the_config_drive_whole(
    member, create, tmp_path
):
    script = _script(96 * 1024)
    assert len(script.encode()) == 98304
    r = create(member, user_data=script)
    assert r.status_code == 202, r.text
    files = _drive_of(r.json()["id"], tmp_path)
    assert files["user-data"] == script.encode()


def test_one_byte_over_96_kib_is_413_naming_the_limit(
    member, create, error_of
):
    err = error_of(create(member, user_data=_script(96 * 1024 + 1)), 413)
    assert err["details"]["limit"] == 98304
    assert "98304" in err["message"]
