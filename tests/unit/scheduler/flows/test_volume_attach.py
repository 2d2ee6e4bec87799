"""Attach / detach flows and the delete of an instance with data volumes:
real sta and hva managers over their fake drivers, steps, final states,
and what a failure at each step leaves behind (nothing, after the undo)."""

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.manager import HypervisorManager
from arame.agents.sta import errors as sta_errors
from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.fake import FakeTarget
from arame.common import ids, tasks
from arame.common.db import engine, models
from arame.scheduler.flows import volume_attach
from arame.scheduler.flows.delete import DeleteFlow

from .conftest import RecordingProxy, start_task

HOST, NODE, INITIATOR = "hv1", "st1", "10.9.0.7"


class Recorder(RecordingProxy):
    """One real manager, wherever the call is addressed."""

    def __init__(self, manager, expected=()):
        super().__init__()
        self.manager = manager
        self.expected = expected

    def manager_for(self, where):
        return self.manager


class Notifier:
    def info(self, *a):
        pass


@pytest.fixture
def sta(sched_conf):
    backend = FakeBackend()
    target = FakeTarget()
    mgr = STAManager(backend, target, max_volume_gb=100, import_dirs=["/x"])
    rec = Recorder(mgr, sta_errors.EXPECTED)
    rec.target = target
    return rec


@pytest.fixture
def hva(sched_conf):
    driver = FakeDriver(HOST)
    rec = Recorder(HypervisorManager(HOST, driver, Notifier()))
    rec.driver = driver
    return rec


@pytest.fixture
def guest(add_instance, hva):
    """A running instance on hv1 (in the records and on the fake host),
    the host with its initiator address."""

    def make(status="running"):
        iid, _ = add_instance(status=status, host=HOST, claimed=True)
        with engine.session() as s:
            if (
                s.scalar(
                    sa.select(models.Host).where(models.Host.name == HOST)
                )
                is None
            ):
                s.add(
                    models.Host(
                        id=ids.generate("host"),
                        name=HOST,
                        hypervisor_type="fake",
                        storage_address=INITIATOR,
                    )
                )
        hva.driver.spawn({"id": iid, "name": "web-1", "hostname": "web-1"})
        return iid

    return make


def volume(sta, status="available", instance_id=None, action=None):
    """A 1 GiB volume on st1 (created there), as the API leaves it for
    `action`; (volume id, task id or None)."""
    vid = ids.generate("volume")
    now = models.utcnow()
    sta.manager.create_volume({}, {"id": vid, "size_gb": 1})
    with engine.session() as s:
        s.add(
            models.Volume(
                id=vid,
                name="d",
                account_id="a-admin",
                size_gb=1,
                status=status,
                storage_node=NODE,
                instance_id=instance_id,
                created_at=now,
                updated_at=now,
            )
        )
        tid = None
        if action:
            tid = tasks.create(
                s,
                account_id="a-admin",
                resource_id=vid,
                resource_type="volume",
                action=action,
                timeout_s=600,
            ).id
    return vid, tid


def row(model, key):
    with engine.session() as s:
        return s.get(model, key)


def attach(ctxt, sta, hva, iid):
    vid, tid = volume(sta, "attaching", iid, "attach")
    volume_attach.AttachVolumeFlow(ctxt, tid, vid, sta, hva).run()
    return vid, tid


def detach(ctxt, sta, hva, vid):
    tid = start_task(models.Volume, vid, "detaching", "volume", "detach")
    volume_attach.DetachVolumeFlow(ctxt, tid, vid, sta, hva).run()
    return tid


def steps(tid):
    return [(e.step, e.status) for e in row(models.Task, tid).events]


@pytest.mark.parametrize("status", ["running", "stopped"])
def test_attach_exports_to_the_host_only_and_plugs_the_disk(
    ctxt, sta, hva, guest, status
):
    iid = guest(status)
    vid, tid = attach(ctxt, sta, hva, iid)
    assert row(models.Task, tid).status == "done"
    assert steps(tid) == [
        ("check", "done"),
        ("export", "done"),
        ("attach", "done"),
    ]
    vol = row(models.Volume, vid)
    assert (vol.status, vol.instance_id, vol.device) == (
        "attached",
        iid,
        "vdc",
    )
    assert vol.export_iqn.endswith(vid) and vol.chap_user == f"arame-{vid[4:]}"
    assert hva.driver.volumes(iid) == {vid: "vdc"}
    t = sta.target
    assert t.targets[vid]["initiator"] == INITIATOR
    # Only the host's initiator, with this attach's credentials, gets in.
    assert t.login(vid, INITIATOR, vol.chap_user, vol.chap_secret)
    assert not t.login(vid, "10.9.0.8", vol.chap_user, vol.chap_secret)
    assert sta.calls == [("export_volume", NODE)]
    assert hva.calls == [("attach_volume", HOST)]


def test_every_attach_has_fresh_credentials_and_its_own_device(
    ctxt, sta, hva, guest
):
    iid = guest()
    first, _ = attach(ctxt, sta, hva, iid)
    second, _ = attach(ctxt, sta, hva, iid)
    a, b = row(models.Volume, first), row(models.Volume, second)
    assert (a.device, b.device) == ("vdc", "vdd")
    assert a.chap_secret != b.chap_secret


def test_a_failed_hot_plug_is_undone_and_the_volume_is_available(
    ctxt, sta, hva, guest
):
    iid = guest()
    hva.fail["attach_volume"] = messaging.MessagingTimeout("slow")
    vid, tid = attach(ctxt, sta, hva, iid)
    task = row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "attach")
    assert steps(tid) == [
        ("check", "done"),
        ("export", "done"),
        ("attach", "failed"),
        ("undo-attach", "done"),
        ("undo-export", "done"),
    ]
    vol = row(models.Volume, vid)
    assert (vol.status, vol.instance_id, vol.device) == (
        "available",
        None,
        None,
    )
    assert "attach failed at attach" in vol.status_reason
    assert vid not in sta.target.targets


def test_a_failed_export_needs_no_hva_call(ctxt, sta, hva, guest):
    iid = guest()
    sta.fail["export_volume"] = messaging.RemoteError("StorageError", "tgt")
    vid, tid = attach(ctxt, sta, hva, iid)
    assert row(models.Task, tid).error_step == "export"
    assert row(models.Volume, vid).status == "available"
    assert hva.calls == []


def test_an_undo_that_fails_leaves_error(ctxt, sta, hva, guest):
    iid = guest()
    hva.fail["attach_volume"] = RuntimeError("boom")
    hva.fail["detach_volume"] = messaging.MessagingTimeout("gone")
    vid, _ = attach(ctxt, sta, hva, iid)
    assert row(models.Volume, vid).status == "error"


@pytest.mark.parametrize("status", ["stopping", "shuttingdown", "terminated"])
def test_an_instance_that_moved_since_the_api_fails_the_check(
    ctxt, sta, hva, guest, behind_the_back, status
):
    iid = guest()
    behind_the_back(iid, status)
    vid, tid = attach(ctxt, sta, hva, iid)
    assert row(models.Task, tid).error_step == "check"
    assert row(models.Volume, vid).status == "available"
    assert sta.calls == [] and hva.calls == []


def test_a_host_without_initiator_address_fails_the_check(
    ctxt, sta, hva, guest
):
    iid = guest()
    with engine.session() as s:
        s.execute(sa.update(models.Host).values(storage_address=None))
    vid, tid = attach(ctxt, sta, hva, iid)
    assert "initiator" in row(models.Task, tid).error_message
    assert row(models.Volume, vid).status == "available"


def test_released_during_the_attach_the_flow_undoes_itself(
    ctxt, sta, hva, guest
):
    iid = guest()

    def release(*a, **kw):
        with engine.session() as s:
            s.execute(
                sa.update(models.Volume).values(
                    status="available", instance_id=None
                )
            )
        return {"device": "vdc"}

    hva.manager.attach_volume = lambda ctxt, instance_id, volume: release()
    vid, tid = attach(ctxt, sta, hva, iid)
    assert row(models.Volume, vid).status == "available"
    assert row(models.Task, tid).status == "failed"
    assert "detach_volume" in hva.methods()
    assert vid not in sta.target.targets


def test_detach_unplugs_then_unexports(ctxt, sta, hva, guest):
    iid = guest()
    vid, _ = attach(ctxt, sta, hva, iid)
    sta.calls.clear()
    tid = detach(ctxt, sta, hva, vid)
    assert row(models.Task, tid).status == "done"
    assert steps(tid) == [("detach", "done"), ("unexport", "done")]
    vol = row(models.Volume, vid)
    assert (vol.status, vol.instance_id, vol.device, vol.export_iqn) == (
        "available",
        None,
        None,
        None,
    )
    assert hva.driver.volumes(iid) == {}
    assert vid not in sta.target.targets
    # Idempotent on the host: a second detach finds nothing and is fine.
    assert hva.manager.detach_volume({}, iid, vid) == {}


def test_a_guest_that_keeps_the_disk_keeps_the_volume_attached(
    ctxt, sta, hva, guest
):
    iid = guest()
    vid, _ = attach(ctxt, sta, hva, iid)
    hva.fail["detach_volume"] = messaging.RemoteError(
        "VolumeBusy", f"{iid} did not release {vid} within 30s"
    )
    tid = detach(ctxt, sta, hva, vid)
    vol = row(models.Volume, vid)
    assert (vol.status, vol.instance_id) == ("attached", iid)
    assert "did not release" in vol.status_reason
    assert row(models.Task, tid).error_step == "detach"
    assert vid in sta.target.targets


def test_an_unexport_that_fails_leaves_error_with_the_disk_unplugged(
    ctxt, sta, hva, guest
):
    iid = guest()
    vid, _ = attach(ctxt, sta, hva, iid)
    sta.fail["unexport_volume"] = messaging.MessagingTimeout("slow")
    detach(ctxt, sta, hva, vid)
    vol = row(models.Volume, vid)
    assert (vol.status, vol.instance_id) == ("error", None)
    assert hva.driver.volumes(iid) == {}


def test_deleting_the_instance_gives_its_data_volumes_back(
    ctxt, sta, hva, guest
):
    iid = guest()
    vid, _ = attach(ctxt, sta, hva, iid)
    tid = start_task(
        models.Instance, iid, "shuttingdown", "instance", "delete"
    )
    DeleteFlow(ctxt, tid, iid, hva, sta=sta).run()
    assert row(models.Instance, iid).status == "terminated"
    assert ("release-volume", "done") in steps(tid)
    vol = row(models.Volume, vid)
    assert (vol.status, vol.instance_id, vol.device) == (
        "available",
        None,
        None,
    )
    assert vid not in sta.target.targets
    # The volume itself is kept on its node.
    assert sta.manager.backend.get_volume(vid)
