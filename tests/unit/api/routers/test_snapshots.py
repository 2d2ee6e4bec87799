"""/v1/snapshots: taken of a volume of the caller's account, on its node;
deleted only when no live volume was made from it."""

import pytest
import sqlalchemy as sa

from arame.common import ids
from arame.common.db import engine, models

# The stand-in scheduler fixture and the row helpers are shared.
from .test_volumes import put_snapshot, put_volume, row, storage  # noqa: F401


@pytest.fixture
def new_snapshot(client, storage):  # noqa: F811
    def post(caller, volume_id, headers=None, name="snap-1"):
        return client.post(
            "/v1/snapshots",
            json={"name": name, "volume_id": volume_id},
            headers={**caller.headers, **(headers or {})},
        )

    return post


def test_create_answers_202_on_the_volumes_node(
    client, member, new_snapshot, storage
):  # noqa: F811
    vid = put_volume(account_id=member.account_id, size_gb=7, node="st2")
    r = new_snapshot(member, vid)
    assert r.status_code == 202, r.text
    body = r.json()
    assert ids.is_valid("snapshot", body["id"])
    assert (
        body["status"],
        body["volume_id"],
        body["size_gb"],
        body["storage_node"],
        body["account_id"],
    ) == ("pending", vid, 7, "st2", member.account_id)
    assert storage.casts[0][:3] == (
        "create_snapshot",
        body["task_id"],
        body["id"],
    )
    task = client.get(
        f"/v1/tasks/{body['task_id']}", headers=member.headers
    ).json()
    assert (task["action"], task["resource_type"], task["status"]) == (
        "create",
        "snapshot",
        "queued",
    )
    got = client.get(f"/v1/snapshots/{body['id']}", headers=member.headers)
    assert got.status_code == 200 and got.json()["status"] == "pending"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "s"}, "volume_id"),
        ({"name": "..", "volume_id": "vol-aaaa0001"}, "name"),
        ({"name": "s", "volume_id": "/etc/passwd"}, "volume_id"),
        ({"name": "s", "volume_id": "vol-aaaa0001", "size_gb": 1}, "size_gb"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    client, admin, error_of, body, field
):
    err = error_of(
        client.post("/v1/snapshots", json=body, headers=admin.headers), 422
    )
    assert err["details"]["fields"][0]["field"] == field


def test_volume_of_another_account_or_missing_is_404(
    member, make_user, new_snapshot, error_of, storage
):  # noqa: F811
    other = make_user("member")
    theirs = put_volume(account_id=other.account_id)
    error_of(new_snapshot(member, theirs), 404, "not_found")
    error_of(new_snapshot(member, "vol-zzzzzzzz"), 404, "not_found")
    assert storage.casts == []


@pytest.mark.parametrize(
    "status", ["pending", "creating", "error", "deleting", "deleted"]
)
def test_volume_without_data_to_snapshot_is_409(
    admin, new_snapshot, error_of, status
):
    vid = put_volume(status=status)
    err = error_of(new_snapshot(admin, vid), 409, "conflict")
    assert status in err["message"]


def test_root_volume_snapshots_are_refused(
    admin, add_instance, new_snapshot, error_of
):
    iid, _ = add_instance(status="running")
    vid = put_volume(status="attached", root_of=iid, instance_id=iid)
    err = error_of(new_snapshot(admin, vid), 409)
    assert f"root volume of {iid}" in err["message"]


def test_admins_snapshot_belongs_to_the_volumes_account(
    admin, member, new_snapshot
):
    vid = put_volume(account_id=member.account_id)
    body = new_snapshot(admin, vid).json()
    assert body["account_id"] == member.account_id


def test_reader_reads_but_does_not_write(
    client, make_user, new_snapshot, error_of
):
    owner = make_user("member")
    reader = make_user("reader", account_id=owner.account_id)
    vid = put_volume(account_id=owner.account_id)
    error_of(new_snapshot(reader, vid), 403, "forbidden")
    sid = put_snapshot(vid, account_id=owner.account_id)
    assert [
        s["id"]
        for s in client.get("/v1/snapshots", headers=reader.headers).json()[
            "items"
        ]
    ] == [sid]
    error_of(
        client.delete(f"/v1/snapshots/{sid}", headers=reader.headers), 403
    )


def test_another_accounts_snapshot_is_404(client, member, make_user, error_of):
    other = make_user("member")
    sid = put_snapshot(
        put_volume(account_id=other.account_id), account_id=other.account_id
    )
    error_of(client.get(f"/v1/snapshots/{sid}", headers=member.headers), 404)
    error_of(
        client.delete(f"/v1/snapshots/{sid}", headers=member.headers), 404
    )
    assert (
        client.get("/v1/snapshots", headers=member.headers).json()["items"]
        == []
    )


def test_list_filters_by_volume_and_hides_deleted(client, admin):
    v1, v2 = put_volume(), put_volume()
    a, b = put_snapshot(v1), put_snapshot(v2)
    gone = put_snapshot(v1, status="deleted")

    def listed(query=""):
        return [
            s["id"]
            for s in client.get(
                f"/v1/snapshots{query}", headers=admin.headers
            ).json()["items"]
        ]

    assert listed() == [a, b]
    assert listed(f"?volume_id={v1}") == [a]
    assert listed("?status=deleted") == [gone]
    assert (
        client.get(f"/v1/snapshots/{gone}", headers=admin.headers).json()[
            "status"
        ]
        == "deleted"
    )


def test_idempotency_key_snapshots_once(admin, new_snapshot, storage):  # noqa: F811
    vid = put_volume()
    h = {"Idempotency-Key": "snap-once"}
    first, again = new_snapshot(admin, vid, h), new_snapshot(admin, vid, h)
    assert again.json() == first.json()
    assert storage.methods() == ["create_snapshot"]


def test_delete_answers_202_and_casts_it(client, admin, storage):  # noqa: F811
    sid = put_snapshot(put_volume())
    r = client.delete(f"/v1/snapshots/{sid}", headers=admin.headers)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "deleting"
    assert storage.casts[0][:3] == (
        "delete_snapshot",
        r.json()["task_id"],
        sid,
    )
    assert row(models.Snapshot, sid).status == "deleting"


def test_snapshot_with_live_volumes_made_from_it_is_409(
    client, admin, error_of, storage
):  # noqa: F811
    sid = put_snapshot(put_volume())
    clone = put_volume(snapshot_id=sid)
    put_volume(snapshot_id=sid, status="deleted")
    err = error_of(
        client.delete(f"/v1/snapshots/{sid}", headers=admin.headers), 409
    )
    assert f"volumes made from it: {clone}" in err["message"]
    assert err["details"] == {"volumes": [clone]}
    with engine.session() as s:
        s.execute(
            sa.update(models.Volume)
            .where(models.Volume.id == clone)
            .values(status="deleted")
        )
    assert (
        client.delete(
            f"/v1/snapshots/{sid}", headers=admin.headers
        ).status_code
        == 202
    )


@pytest.mark.parametrize(
    "status,message",
    [("creating", "creating"), ("deleted", "already deleted")],
)
def test_delete_while_busy_or_gone_is_409(
    client, admin, error_of, status, message
):
    sid = put_snapshot(put_volume(), status=status)
    err = error_of(
        client.delete(f"/v1/snapshots/{sid}", headers=admin.headers), 409
    )
    assert message in err["message"]


def test_volume_delete_refused_until_its_snapshots_go(client, admin, error_of):
    vid = put_volume()
    sid = put_snapshot(vid)
    error_of(client.delete(f"/v1/volumes/{vid}", headers=admin.headers), 409)
    with engine.session() as s:
        s.execute(
            sa.update(models.Snapshot)
            .where(models.Snapshot.id == sid)
            .values(status="deleted")
        )
    assert (
        client.delete(f"/v1/volumes/{vid}", headers=admin.headers).status_code
        == 202
    )
