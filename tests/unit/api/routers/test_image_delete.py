"""DELETE /v1/images/{id}: refused while instances or volumes use the image
(naming them), otherwise 204: the image is gone for its users at once and
a task removes its bytes; DELETE again retries what a task left."""

import datetime as dt

import pytest
import sqlalchemy as sa

from arame.api.services import image_delete
from arame.common import ids, tasks
from arame.common.db import engine, models
from tests.unit.api.conftest import assert_error


class RecordingScheduler:
    def __init__(self):
        self.casts = []
        self.fail = False

    def delete_image(self, ctxt, task_id, image_id):
        if self.fail:
            raise OSError("broker down")
        self.casts.append((task_id, image_id))


@pytest.fixture
def sched(monkeypatch):
    rec = RecordingScheduler()
    monkeypatch.setattr(image_delete.service, "_scheduler", rec)
    return rec


def add_image(account_id, status="available", visibility="private"):
    iid = ids.generate("image")
    with engine.session() as s:
        s.add(
            models.Image(
                id=iid,
                name="disk",
                account_id=account_id,
                visibility=visibility,
                format="raw",
                status=status,
                size_bytes=1024,
            )
        )
        s.add(models.ImageLocation(image_id=iid, storage_node="st1"))
    return iid


def add_user(model, image_id, account_id, status):
    rid = ids.generate("instance" if model is models.Instance else "volume")
    values = (
        dict(
            hostname="h",
            flavor="small",
            vcpus=1,
            memory_mb=512,
            disk_gb=1,
        )
        if model is models.Instance
        else dict(size_gb=1)
    )
    with engine.session() as s:
        s.add(
            model(
                id=rid,
                name="user",
                account_id=account_id,
                image_id=image_id,
                status=status,
                **values,
            )
        )
    return rid


def delete(client, caller, image_id):
    return client.delete(f"/v1/images/{image_id}", headers=caller.headers)


def status_of(image_id):
    with engine.session() as s:
        img = s.get(models.Image, image_id)
        return img.status, img.status_reason


def test_an_unused_image_is_gone_at_once_and_its_bytes_follow(
    client, member, sched
):
    iid = add_image(member.account_id)
    r = delete(client, member, iid)
    assert r.status_code == 204, r.text
    assert r.content == b""
    tid = r.headers["X-Task-Id"]
    assert sched.casts == [(tid, iid)]
    with engine.session() as s:
        t = s.get(models.Task, tid)
        assert (t.resource_type, t.action, t.resource_id, t.status) == (
            "image",
            "delete",
            iid,
            "queued",
        )
    assert status_of(iid) == ("deleting", None)
    h = member.headers
    assert_error(client.get(f"/v1/images/{iid}", headers=h), 404)
    listed = client.get("/v1/images", headers=h).json()["items"]
    assert iid not in [i["id"] for i in listed]
    # Its owner can still find what is being removed.
    pending = client.get("/v1/images?status=deleting", headers=h).json()
    assert [i["id"] for i in pending["items"]] == [iid]
    # A new instance cannot use it.
    r = client.post(
        "/v1/instances",
        json={"name": "w", "flavor": "small", "image": iid},
        headers=h,
    )
    assert r.status_code == 422, r.text


def test_in_use_is_409_naming_instances_and_volumes(client, member, sched):
    iid = add_image(member.account_id)
    a = member.account_id
    insts = sorted(
        add_user(models.Instance, iid, a, st)
        for st in ("running", "error", "pending", "stopped", "running", "x")
    )
    add_user(models.Instance, iid, a, "terminated")
    vol = add_user(models.Volume, iid, a, "available")
    add_user(models.Volume, iid, a, "deleted")
    err = assert_error(delete(client, member, iid), 409, "conflict")
    assert err["message"] == (
        f"image {iid} is in use by 6 instances ({', '.join(insts[:5])} and "
        f"1 more) and 1 volume ({vol}): delete them first"
    )
    assert err["details"] == {
        "instances": insts[:5],
        "instance_count": 6,
        "volumes": [vol],
        "volume_count": 1,
        "units": [],
        "unit_count": 0,
    }
    assert sched.casts == []
    assert status_of(iid) == ("available", None)


def test_who_may_delete(client, member, make_user, admin, cloud, sched):
    mine = add_image(member.account_id)
    reader = make_user("reader", account_id=member.account_id)
    other = make_user("member")
    assert_error(delete(client, reader, mine), 403)
    # Another account's private image does not exist for B.
    assert_error(delete(client, other, mine), 404)
    # A public image B sees but does not own: forbidden.
    public = add_image(member.account_id, visibility="public")
    assert_error(delete(client, other, public), 403)
    assert_error(delete(client, member, "img-nothere"), 404)
    assert_error(delete(client, member, "../etc"), 404)
    assert sched.casts == []
    # An admin deletes anyone's.
    assert delete(client, admin, mine).status_code == 204
    assert delete(client, admin, public).status_code == 204


def test_states(client, member, sched):
    up = add_image(member.account_id, status="uploading")
    assert (
        "being uploaded"
        in assert_error(delete(client, member, up), 409)["message"]
    )
    gone = add_image(member.account_id, status="deleted")
    assert_error(delete(client, member, gone), 404)
    for status in ("pending", "error"):
        iid = add_image(member.account_id, status=status)
        assert delete(client, member, iid).status_code == 204


def test_delete_again_joins_a_running_task_or_retries_a_failed_one(
    client, member, sched
):
    iid = add_image(member.account_id)
    first = delete(client, member, iid).headers["X-Task-Id"]
    # While its task runs, the same task answers.
    assert delete(client, member, iid).headers["X-Task-Id"] == first
    assert len(sched.casts) == 1
    with engine.session() as s:
        tasks.fail(s, first, "storage", "storage node st1: st1 is down")
    again = delete(client, member, iid).headers["X-Task-Id"]
    assert again != first
    assert sched.casts[-1] == (again, iid)


def test_no_bus_is_503_and_the_image_stays_to_be_retried(
    client, member, sched
):
    iid = add_image(member.account_id)
    sched.fail = True
    err = assert_error(delete(client, member, iid), 503)
    assert "repeat the request" in err["message"]
    assert status_of(iid)[0] == "deleting"
    with engine.session() as s:
        [t] = s.scalars(
            sa.select(models.Task).where(models.Task.resource_id == iid)
        ).all()
        assert (t.status, t.error_step) == ("failed", "dispatch")
    sched.fail = False
    assert delete(client, member, iid).status_code == 204


def test_an_upload_the_api_never_finished_may_be_deleted(
    client, member, sched, config
):
    config("stale_upload_seconds", 60, group="storage_data")
    iid = add_image(member.account_id, status="uploading")
    assert_error(delete(client, member, iid), 409)
    with engine.session() as s:
        s.get(models.Image, iid).updated_at = models.utcnow() - dt.timedelta(
            seconds=61
        )
    assert delete(client, member, iid).status_code == 204
    assert status_of(iid)[0] == "deleting"
