"""An image delete, and an instance's new security groups, outlive their
scheduler: it dies as a storage node answers, the sweep of another adopts
the task and the flow runs again (every call is idempotent); the
scheduler's endpoint routes both casts and both resumes."""

import io

import pytest

from arame.common import ids, secgroups_db, tasks
from arame.common.db import engine, models
from arame.scheduler import rpcapi as scheduler_rpcapi

from .test_leases import Died, task_row
from .test_resume_records import (  # noqa: F401  (fixtures)
    add_sta,
    adopt,
    die_after,
    hv,
    notes,
    row,
    scheduler,
    sta,
    steps,
)
from .test_volume_flows import DISK, SHA


def deleting_image(sta, nodes) -> tuple[str, str]:
    iid = ids.generate("image")
    with engine.session() as s:
        s.add(
            models.Image(
                id=iid,
                name="gone",
                account_id="a-admin",
                format="raw",
                status="deleting",
                size_bytes=len(DISK),
                sha256=SHA,
            )
        )
        for n in nodes:
            s.add(models.ImageLocation(image_id=iid, storage_node=n))
            sta.node(n).backend.import_image(
                iid, io.BytesIO(DISK), len(DISK), SHA
            )
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id=iid,
            resource_type="image",
            action="delete",
            timeout_s=600,
        ).id
    return iid, tid


def test_an_image_delete_resumes_after_its_scheduler_died(
    scheduler, sta, hv, ctxt, add_host
):
    add_sta("st1")
    add_sta("st2")
    add_host("hv1")
    iid, tid = deleting_image(sta, ["st1", "st2"])
    first, _ = scheduler()
    die_after(sta.node("st2"), "delete_image")
    with pytest.raises(Died):
        first.delete_image(ctxt, tid, iid)
    t = task_row(tid)
    assert (t.status, t.step) == ("running", "storage")

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    assert row(models.Image, iid).status == "deleted"
    assert iid not in sta.node("st1").backend.images
    assert iid not in sta.node("st2").backend.images
    # Asked again, every node answers the same (st1 holds nothing now).
    assert sta.calls == [
        ("delete_image", "st1"),
        ("delete_image", "st2"),
        ("delete_image", "st1"),
        ("delete_image", "st2"),
    ]
    assert steps(tid)[-2:] == [
        ("storage", "done", "st2"),
        ("cache", "done", "hv1"),
    ]
    assert hv.calls == [("remove_image", "hv1")]


def test_a_security_group_change_resumed_sends_every_group(
    scheduler, hv, ctxt, add_instance, add_host
):
    add_host("hv1")
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    gid = secgroups_db.ensure_default("a-admin")
    with engine.session() as s:
        secgroups_db.set_membership(s, iid, [gid])
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id=iid,
            resource_type="instance",
            action="update_security_groups",
            timeout_s=600,
        ).id
    m, _ = scheduler()
    m.resume(ctxt, row(models.Task, tid), adopted=False)
    assert row(models.Task, tid).status == "done"


class RecordingClient:
    def __init__(self):
        self.sent = []

    def prepare(self, **kw):
        self.version = kw.get("version")
        return self

    def can_send_version(self, version):
        return True

    def cast(self, ctxt, method, **kw):
        self.sent.append((self.version, method, kw))


def test_the_proxy_casts_at_1_4():
    api = object.__new__(scheduler_rpcapi.SchedulerAPI)
    api.client = RecordingClient()
    api.delete_image({}, "t-1", "img-abcdefgh")
    api.update_instance_security_groups({}, "t-2", "i-abcdefgh", ["sg-1"])
    assert api.client.sent == [
        (
            "1.4",
            "delete_image",
            {"task_id": "t-1", "image_id": "img-abcdefgh"},
        ),
        (
            "1.4",
            "update_instance_security_groups",
            {
                "task_id": "t-2",
                "instance_id": "i-abcdefgh",
                "previous": ["sg-1"],
            },
        ),
    ]
