"""/v1/volumes: validation, origins (image, snapshot), isolation between
accounts, lists, the refusals of DELETE, actions not supported yet."""

import pytest
import sqlalchemy as sa

from arame.common import ids
from arame.common.db import engine, models, seed


class RecordingStorageScheduler:
    """Stands in for scheduler.rpcapi.SchedulerAPI's volume and snapshot
    casts: (method, task_id, resource_id, ctxt)."""

    def __init__(self):
        self.casts: list[tuple] = []

    def __getattr__(self, method):
        def cast(ctxt, task_id, resource_id):
            self.casts.append((method, task_id, resource_id, ctxt))

        return cast

    def methods(self):
        return [c[0] for c in self.casts]


@pytest.fixture
def storage(monkeypatch):
    from arame.api.routers import snapshots as snapshots_router
    from arame.api.routers import volumes as volumes_router

    rec = RecordingStorageScheduler()
    monkeypatch.setattr(volumes_router.service, "_scheduler", rec)
    monkeypatch.setattr(snapshots_router.service, "_scheduler", rec)
    return rec


@pytest.fixture
def new_volume(client, storage):
    """new_volume(caller, headers=None, **body) -> the POST's response."""

    def post(caller, headers=None, **body):
        body.setdefault("name", "data-1")
        if "image" not in body and "snapshot" not in body:
            body.setdefault("size_gb", 2)
        body = {k: v for k, v in body.items() if v is not None}
        return client.post(
            "/v1/volumes",
            json=body,
            headers={**caller.headers, **(headers or {})},
        )

    return post


def put_volume(
    account_id="a-admin", status="available", node="st1", size_gb=2, **values
) -> str:
    """A volume row as the flows leave it."""
    vid = ids.generate("volume")
    now = models.utcnow()
    with engine.session() as s:
        s.add(
            models.Volume(
                id=vid,
                name="v",
                account_id=account_id,
                size_gb=size_gb,
                status=status,
                storage_node=node,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
    return vid


def put_snapshot(
    volume_id, account_id="a-admin", status="available", size_gb=2, node="st1"
) -> str:
    sid = ids.generate("snapshot")
    now = models.utcnow()
    with engine.session() as s:
        s.add(
            models.Snapshot(
                id=sid,
                name="s",
                account_id=account_id,
                volume_id=volume_id,
                size_gb=size_gb,
                status=status,
                storage_node=node,
                created_at=now,
                updated_at=now,
            )
        )
    return sid


def raw_image(
    account_id="a-admin",
    visibility="public",
    size_bytes=None,
    status="available",
) -> str:
    img = ids.generate("image")
    with engine.session() as s:
        s.add(
            models.Image(
                id=img,
                name="disk",
                account_id=account_id,
                visibility=visibility,
                format="raw",
                status=status,
                size_bytes=size_bytes,
            )
        )
    return img


def row(model, key):
    with engine.session() as s:
        return s.get(model, key)


def set_values(model, key, **values):
    with engine.session() as s:
        s.execute(sa.update(model).where(model.id == key).values(**values))


# -- create ------------------------------------------------------------------


def test_create_answers_202_with_a_task_and_casts_it(
    client, admin, new_volume, storage
):
    r = new_volume(admin, name="data-1", size_gb=3)
    assert r.status_code == 202, r.text
    body = r.json()
    assert ids.is_valid("volume", body["id"])
    assert ids.is_valid("task", body["task_id"])
    assert (body["status"], body["size_gb"], body["name"]) == (
        "pending",
        3,
        "data-1",
    )
    assert body["storage_node"] is None and body["root_of"] is None
    assert "chap_secret" not in body and "chap_user" not in body

    assert storage.casts[0][:3] == (
        "create_volume",
        body["task_id"],
        body["id"],
    )
    got = client.get(f"/v1/volumes/{body['id']}", headers=admin.headers)
    assert got.status_code == 200 and got.json()["status"] == "pending"
    task = client.get(
        f"/v1/tasks/{body['task_id']}", headers=admin.headers
    ).json()
    assert (
        task["status"],
        task["action"],
        task["resource_type"],
        task["resource_id"],
    ) == ("queued", "create", "volume", body["id"])


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "-bad", "size_gb": 1}, "name"),
        ({"name": "a..b", "size_gb": 1}, "name"),
        ({"name": "x" * 64, "size_gb": 1}, "name"),
        ({"name": "v", "size_gb": 0}, "size_gb"),
        ({"name": "v", "size_gb": "big"}, "size_gb"),
        ({"name": "v", "size_gb": 1, "image": "not-an-id"}, "image"),
        ({"name": "v", "size_gb": 1, "colour": "red"}, "colour"),
        ({"size_gb": 1}, "name"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    client, admin, error_of, storage, body, field
):
    r = client.post("/v1/volumes", json=body, headers=admin.headers)
    err = error_of(r, 422, "invalid")
    assert err["details"]["fields"][0]["field"] == field
    assert storage.casts == []


def test_size_is_required_for_an_empty_volume(new_volume, admin, error_of):
    err = error_of(new_volume(admin, size_gb=None), 422)
    assert err["details"]["field"] == "size_gb"


def test_size_above_the_storage_limit_is_422(
    config, new_volume, admin, error_of, storage
):
    config("max_volume_gb", 10, group="sta")
    assert new_volume(admin, size_gb=10).status_code == 202
    err = error_of(new_volume(admin, size_gb=11), 422)
    assert err["details"] == {"field": "size_gb", "limit": 10}
    assert "at most 10 GiB" in err["message"]
    assert len(storage.casts) == 1


def test_image_and_snapshot_together_is_422(new_volume, admin, error_of):
    vid = put_volume()
    err = error_of(
        new_volume(admin, image=raw_image(), snapshot=put_snapshot(vid)), 422
    )
    assert err["details"]["field"] == "snapshot"


def test_volume_from_a_raw_image_defaults_to_its_size(
    new_volume, admin, error_of
):
    img = raw_image(size_bytes=3 * 1024**3 + 1)
    body = new_volume(admin, image=img).json()
    assert (body["image"], body["size_gb"]) == (img, 4)
    err = error_of(new_volume(admin, image=img, size_gb=3), 422)
    assert err["details"]["field"] == "size_gb"
    assert "needs at least 4 GiB" in err["message"]


def test_image_of_unknown_size_needs_size_gb(new_volume, admin, error_of):
    img = raw_image()
    err = error_of(new_volume(admin, image=img), 422)
    assert err["details"]["field"] == "size_gb"
    assert new_volume(admin, image=img, size_gb=1).status_code == 202


def test_only_a_raw_available_image_makes_a_volume(
    new_volume, admin, cloud, error_of
):
    err = error_of(new_volume(admin, image=cloud.image_id, size_gb=1), 422)
    assert err["details"]["field"] == "image"
    assert "kernel image" in err["message"]
    err = error_of(
        new_volume(admin, image=raw_image(status="uploading"), size_gb=1), 422
    )
    assert "uploading" in err["message"]
    disk = seed.seed_test_image(seed.TEST_DISK_IMAGE)
    assert new_volume(admin, image=disk, size_gb=1).status_code == 202


def test_an_image_the_caller_cannot_see_is_404(
    new_volume, member, error_of, storage
):
    private = raw_image(account_id="a-admin", visibility="private")
    err = error_of(new_volume(member, image=private, size_gb=1), 404)
    assert private in err["message"]
    error_of(new_volume(member, image="img-zzzzzzzz", size_gb=1), 404)
    assert storage.casts == []


def test_volume_from_a_snapshot(new_volume, member, error_of, storage):
    src = put_volume(account_id=member.account_id, size_gb=5)
    snap = put_snapshot(src, account_id=member.account_id, size_gb=5)
    body = new_volume(member, snapshot=snap).json()
    assert (body["snapshot"], body["size_gb"], body["account_id"]) == (
        snap,
        5,
        member.account_id,
    )
    err = error_of(new_volume(member, snapshot=snap, size_gb=4), 422)
    assert err["details"]["field"] == "size_gb"
    assert new_volume(member, snapshot=snap, size_gb=6).status_code == 202


def test_snapshot_not_available_or_not_visible(
    new_volume, member, make_user, error_of
):
    src = put_volume(account_id=member.account_id)
    busy = put_snapshot(src, account_id=member.account_id, status="creating")
    error_of(new_volume(member, snapshot=busy), 409, "conflict")
    other = make_user("member")
    theirs = put_snapshot(
        put_volume(account_id=other.account_id), account_id=other.account_id
    )
    error_of(new_volume(member, snapshot=theirs), 404, "not_found")


def test_idempotency_key_creates_once(client, admin, new_volume, storage):
    h = {"Idempotency-Key": "vol-once"}
    first = new_volume(admin, headers=h)
    again = new_volume(admin, headers=h)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert storage.methods() == ["create_volume"]
    with engine.session() as s:
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(models.Volume))
            == 1
        )


def test_bus_down_fails_the_task_at_once_with_503(
    admin, new_volume, error_of, monkeypatch
):
    from arame.api.routers import volumes as router

    class Down:
        def create_volume(self, *a):
            raise ConnectionError("broker unreachable")

    monkeypatch.setattr(router.service, "_scheduler", Down())
    error_of(new_volume(admin), 503, "service_unavailable")
    with engine.session() as s:
        vol = s.scalars(sa.select(models.Volume)).one()
        task = s.scalars(sa.select(models.Task)).one()
    assert (vol.status, vol.status_reason) == (
        "error",
        "could not reach the scheduler",
    )
    assert (task.status, task.error_step) == ("failed", "dispatch")


# -- roles, accounts, lists ------------------------------------------------------


def test_reader_reads_but_does_not_write(
    client, make_user, new_volume, error_of
):
    owner = make_user("member")
    reader = make_user("reader", account_id=owner.account_id)
    vid = new_volume(owner).json()["id"]
    error_of(new_volume(reader), 403, "forbidden")
    listed = client.get("/v1/volumes", headers=reader.headers).json()
    assert [v["id"] for v in listed["items"]] == [vid]
    assert (
        client.get(f"/v1/volumes/{vid}", headers=reader.headers).status_code
        == 200
    )
    error_of(client.delete(f"/v1/volumes/{vid}", headers=reader.headers), 403)


def test_another_accounts_volume_is_404_everywhere(
    client, member, make_user, error_of, storage
):
    other = make_user("member")
    vid = put_volume(account_id=other.account_id)
    h = member.headers
    for r in (
        client.get(f"/v1/volumes/{vid}", headers=h),
        client.delete(f"/v1/volumes/{vid}", headers=h),
        client.post(
            f"/v1/volumes/{vid}/actions", json={"action": "detach"}, headers=h
        ),
        client.get("/v1/volumes/vol-zzzzzzzz", headers=h),
        client.get("/v1/volumes/..%2Fx", headers=h),
    ):
        error_of(r, 404, "not_found")
    assert client.get("/v1/volumes", headers=h).json()["items"] == []
    assert storage.casts == []
    assert row(models.Volume, vid).status == "available"


def test_admin_sees_every_account(client, admin, member, make_user, error_of):
    mine = put_volume(account_id=member.account_id)
    own = put_volume()

    def listed(caller, query=""):
        r = client.get(f"/v1/volumes{query}", headers=caller.headers)
        assert r.status_code == 200, r.text
        return {v["id"] for v in r.json()["items"]}

    assert listed(admin) == {mine, own}
    assert listed(member) == {mine}
    assert listed(admin, f"?account_id={member.account_id}") == {mine}
    error_of(
        client.get("/v1/volumes?account_id=a-admin", headers=member.headers),
        403,
    )


def test_deleted_volumes_stay_readable_but_leave_the_list(client, admin):
    live = put_volume()
    gone = put_volume(status="deleted", deleted_at=models.utcnow())

    def listed(query=""):
        return [
            v["id"]
            for v in client.get(
                f"/v1/volumes{query}", headers=admin.headers
            ).json()["items"]
        ]

    assert listed() == [live]
    assert listed("?status=deleted") == [gone]
    got = client.get(f"/v1/volumes/{gone}", headers=admin.headers).json()
    assert got["status"] == "deleted" and got["deleted_at"] is not None


def test_list_pages_and_filters_by_name(client, admin, new_volume):
    made = [new_volume(admin, name=f"data-{i}").json()["id"] for i in range(3)]
    new_volume(admin, name="logs")
    page = client.get(
        "/v1/volumes?name=data-*&limit=2", headers=admin.headers
    ).json()
    assert [v["id"] for v in page["items"]] == made[:2]
    rest = client.get(
        f"/v1/volumes?name=data-*&limit=2&marker={page['next_marker']}",
        headers=admin.headers,
    ).json()
    assert [v["id"] for v in rest["items"]] == made[2:]
    assert rest["next_marker"] is None


def test_root_volumes_are_listed_with_their_instance(
    client, admin, add_instance
):
    iid, _ = add_instance(status="running")
    vid = put_volume(status="attached", root_of=iid, instance_id=iid)
    got = client.get("/v1/volumes", headers=admin.headers).json()["items"]
    assert [(v["id"], v["root_of"], v["instance_id"]) for v in got] == [
        (vid, iid, iid)
    ]


# -- delete ----------------------------------------------------------------------


def test_delete_answers_202_and_casts_it(client, admin, storage):
    vid = put_volume(status_reason=None)
    r = client.delete(f"/v1/volumes/{vid}", headers=admin.headers)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "deleting"
    assert storage.casts[0][:3] == ("delete_volume", body["task_id"], vid)
    assert row(models.Volume, vid).status == "deleting"
    task = row(models.Task, body["task_id"])
    assert (task.action, task.resource_type) == ("delete", "volume")


@pytest.mark.parametrize("status", ["error", "pending"])
def test_delete_from_error_or_pending(client, admin, status):
    vid = put_volume(status=status)
    assert (
        client.delete(f"/v1/volumes/{vid}", headers=admin.headers).status_code
        == 202
    )


@pytest.mark.parametrize("status", ["creating", "deleting", "attaching"])
def test_delete_while_busy_is_409(client, admin, error_of, storage, status):
    vid = put_volume(status=status)
    err = error_of(
        client.delete(f"/v1/volumes/{vid}", headers=admin.headers),
        409,
        "conflict",
    )
    assert status in err["message"]
    assert storage.casts == []


def test_delete_of_a_deleted_volume_is_409(client, admin, error_of):
    vid = put_volume(status="deleted", deleted_at=models.utcnow())
    err = error_of(
        client.delete(f"/v1/volumes/{vid}", headers=admin.headers), 409
    )
    assert "already deleted" in err["message"]


def test_delete_of_an_attached_volume_is_409(client, admin, error_of):
    vid = put_volume(status="attached", instance_id="i-aaaa0001")
    err = error_of(
        client.delete(f"/v1/volumes/{vid}", headers=admin.headers), 409
    )
    assert "attached to i-aaaa0001: detach it first" in err["message"]


def test_root_volume_of_a_live_instance_is_409(
    client, admin, add_instance, error_of, storage
):
    iid, _ = add_instance(status="running")
    vid = put_volume(status="attached", root_of=iid, instance_id=iid)
    err = error_of(
        client.delete(f"/v1/volumes/{vid}", headers=admin.headers), 409
    )
    assert err["message"] == (
        f"volume {vid} is the root volume of {iid}: delete the instance"
    )
    assert err["details"] == {"instance_id": iid}
    assert storage.casts == []


def test_root_volume_left_by_a_terminated_instance_can_go(
    client, admin, add_instance, storage
):
    iid, _ = add_instance(status="terminated")
    vid = put_volume(status="attached", root_of=iid, instance_id=iid)
    r = client.delete(f"/v1/volumes/{vid}", headers=admin.headers)
    assert r.status_code == 202, r.text
    assert row(models.Volume, vid).status == "deleting"
    assert storage.methods() == ["delete_volume"]


def test_volume_with_live_snapshots_is_409_naming_them(
    client, admin, error_of, storage
):
    vid = put_volume()
    a, b = put_snapshot(vid), put_snapshot(vid, status="error")
    put_snapshot(vid, status="deleted")
    err = error_of(
        client.delete(f"/v1/volumes/{vid}", headers=admin.headers), 409
    )
    assert f"has snapshots: {', '.join(sorted([a, b]))}" in err["message"]
    assert err["details"]["snapshots"] == sorted([a, b])
    assert row(models.Volume, vid).status == "available"


# -- actions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"action": "resize"},
        {"action": "attach"},
        {"action": "detach", "instance_id": "x"},
    ],
)
def test_malformed_actions_are_422(client, admin, error_of, body):
    vid = put_volume()
    error_of(
        client.post(
            f"/v1/volumes/{vid}/actions", json=body, headers=admin.headers
        ),
        422,
    )
