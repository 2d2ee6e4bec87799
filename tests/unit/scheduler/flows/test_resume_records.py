"""Volume, snapshot, attachment and security-group tasks outlive their
scheduler: it dies at the flow's agent step (after the agent did the work,
before its answer arrived), the lease lapses, another scheduler's sweep
adopts the task and the flow resumes from the records, asking the agent
again (every operation is idempotent)."""

import datetime as dt

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.manager import HypervisorManager
from arame.common import ids, quotas, secgroups_db, tasks
from arame.common.db import engine, models
from arame.scheduler.flows.delete import DeleteFlow
from arame.scheduler.leases import Leases
from arame.scheduler.manager import SchedulerManager
from arame.scheduler.sweeper import Sweeper

from .conftest import RecordingProxy, start_task
from .test_leases import Died, lapse, run_found, task_row
from .test_volume_flows import FakeSTA, add_record, raw_image

HOST, NODE, INITIATOR = "hv1", "st1", "10.9.0.7"


class Notes:
    """The scheduler's notifier: the usage records it sends."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def info(self, ctxt, event, payload):
        self.sent.append((event, payload["resource_id"]))


class Quiet:
    """hva's notifier: what the fake guests report goes nowhere."""

    def info(self, *a):
        pass


class FakeHVA(RecordingProxy):
    """A real hva manager over the fake driver per host."""

    def __init__(self):
        super().__init__()
        self.hosts: dict[str, HypervisorManager] = {}

    def manager_for(self, where):
        if where not in self.hosts:
            self.hosts[where] = HypervisorManager(
                where, FakeDriver(where), Quiet()
            )
        return self.hosts[where]


def die_after(agent, method: str) -> None:
    """The agent does `method` once more, then the scheduler that asked
    dies before the answer reaches it (nothing in it catches Died)."""
    real = getattr(agent, method)

    def dying(*a, **kw):
        setattr(agent, method, real)
        real(*a, **kw)
        raise Died()

    setattr(agent, method, dying)


@pytest.fixture
def sta(tmp_path, sched_conf):
    imports = tmp_path / "import"
    imports.mkdir()
    sched_conf("import_dirs", [str(imports)], group="sta")
    return FakeSTA(str(imports))


@pytest.fixture
def hv():
    return FakeHVA()


@pytest.fixture
def notes():
    return Notes()


@pytest.fixture
def scheduler(cloud, sta, hv, notes):
    """make() -> a scheduler process: its manager and its sweep."""

    def make():
        m = SchedulerManager(
            selector=object(),
            hva=hv,
            nsa=object(),
            sta=sta,
            bma=object(),
            notifier=notes,
        )
        return m, Sweeper(m, workers=1)

    return make


def add_sta(name: str) -> None:
    with engine.session() as s:
        s.add(
            models.Service(
                host=name,
                binary="arame-sta",
                topic="sta",
                version="t",
                last_heartbeat_at=models.utcnow(),
            )
        )


def adopt(scheduler, tid: str):
    """The first scheduler is dead: its lease lapses and a second one's
    sweep adopts the task and runs it to its end."""
    lapse(tid)
    second, sweep = scheduler()
    assert [(t.id, a) for t, a in run_found(sweep)] == [(tid, True)]
    return second


def steps(tid):
    return [(e.step, e.status, e.host) for e in task_row_events(tid)]


def task_row_events(tid):
    with engine.session() as s:
        return list(s.get(models.Task, tid).events)


def row(model, key):
    with engine.session() as s:
        return s.get(model, key)


# -- volumes --------------------------------------------------------------------


def test_a_volume_create_resumes_on_the_node_it_was_placed_on(
    scheduler, sta, ctxt, notes
):
    add_sta("st1")
    add_sta("st2")
    vid, tid = add_record(models.Volume, "volume", size_gb=3)
    first, _ = scheduler()
    die_after(sta.node("st1"), "create_volume")
    with pytest.raises(Died):
        first.create_volume(ctxt, tid, vid)
    t = task_row(tid)
    assert (t.status, t.step) == ("running", "volume")
    assert row(models.Volume, vid).status == "creating"
    # st1 is now the fuller node: a new placement would choose st2.
    add_record(
        models.Volume,
        "volume",
        size_gb=50,
        status="available",
        storage_node="st1",
    )

    adopt(scheduler, tid)
    t = row(models.Task, tid)
    assert (t.status, t.attempts) == ("done", 2)
    assert steps(tid) == [
        ("schedule", "done", "st1"),
        ("volume", "done", "st1"),
    ]
    vol = row(models.Volume, vid)
    assert (vol.status, vol.storage_node) == ("available", "st1")
    assert sta.calls == [("create_volume", "st1"), ("create_volume", "st1")]
    assert list(sta.node("st1").backend.volumes) == [vid]
    assert "st2" not in sta.nodes
    assert notes.sent == [("usage.open", vid)]


def test_a_volume_from_an_image_resumed_imports_it_on_its_node(
    scheduler, sta, ctxt, tmp_path
):
    add_sta("st1")
    img = raw_image(tmp_path, sta)
    vid, tid = add_record(models.Volume, "volume", size_gb=1, image_id=img)
    first, _ = scheduler()
    die_after(sta.node("st1"), "import_image")
    with pytest.raises(Died):
        first.create_volume(ctxt, tid, vid)
    assert row(models.ImageLocation, (img, "st1")) is None

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    assert sta.methods() == ["import_image", "import_image", "create_volume"]
    assert row(models.ImageLocation, (img, "st1")) is not None
    assert sta.node("st1").backend.volumes[vid]["origin"] == img


def test_a_volume_delete_resumed_gives_its_quota_back_once(
    scheduler, sta, ctxt, notes
):
    vid, tid = add_record(
        models.Volume, "volume", "delete", size_gb=2, storage_node="st1"
    )
    quotas.ensure_row("a-admin")
    with engine.session() as s:
        quotas.take_volume(s, "a-admin", vid, 2)
    sta.node("st1").create_volume({}, {"id": vid, "size_gb": 2})
    first, _ = scheduler()
    die_after(sta.node("st1"), "delete_volume")
    with pytest.raises(Died):
        first.delete_volume(ctxt, tid, vid)
    assert sta.node("st1").backend.volumes == {}

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    assert row(models.Volume, vid).status == "deleted"
    assert sta.methods() == ["delete_volume", "delete_volume"]
    q = row(models.Quota, "a-admin")
    assert (q.volumes_used, q.storage_gb_used) == (0, 0)
    assert notes.sent == [("usage.close", vid)]


def test_a_snapshot_create_and_delete_resume(scheduler, sta, ctxt):
    node = sta.node("st1")
    vid, _ = add_record(
        models.Volume,
        "volume",
        size_gb=2,
        status="available",
        storage_node="st1",
    )
    node.create_volume({}, {"id": vid, "size_gb": 2})
    sid, tid = add_record(
        models.Snapshot,
        "snapshot",
        volume_id=vid,
        storage_node="st1",
        size_gb=2,
    )
    first, _ = scheduler()
    die_after(node, "create_snapshot")
    with pytest.raises(Died):
        first.create_snapshot(ctxt, tid, sid)
    assert row(models.Snapshot, sid).status == "creating"
    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    assert row(models.Snapshot, sid).status == "available"
    assert node.backend.snapshots == {sid: vid}

    dtid = start_task(models.Snapshot, sid, "deleting", "snapshot", "delete")
    first, _ = scheduler()
    die_after(node, "delete_snapshot")
    with pytest.raises(Died):
        first.delete_snapshot(ctxt, dtid, sid)
    adopt(scheduler, dtid)
    assert row(models.Task, dtid).status == "done"
    assert row(models.Snapshot, sid).status == "deleted"
    assert node.backend.snapshots == {}
    assert sta.methods() == ["create_snapshot"] * 2 + ["delete_snapshot"] * 2


def test_a_volume_deleted_while_nobody_ran_its_create_is_left_alone(
    scheduler, sta
):
    # Taken by a scheduler that died at once; the user deleted the
    # pending volume meanwhile (its own delete task removes it).
    add_sta("st1")
    vid, tid = add_record(models.Volume, "volume", size_gb=1)
    with engine.session() as s:
        assert Leases().take(s, tid)
    start_task(models.Volume, vid, "deleting", "volume", "delete")

    adopt(scheduler, tid)
    t = row(models.Task, tid)
    assert t.status == "failed"
    assert t.error_message == (
        "cancelled: the volume was deleted before it was created"
    )
    assert row(models.Volume, vid).status == "deleting"
    assert sta.calls == []


def test_a_snapshot_deleted_while_being_created_is_removed_from_its_node(
    scheduler, sta, ctxt
):
    node = sta.node("st1")
    vid, _ = add_record(
        models.Volume,
        "volume",
        size_gb=2,
        status="available",
        storage_node="st1",
    )
    node.create_volume({}, {"id": vid, "size_gb": 2})
    sid, tid = add_record(
        models.Snapshot,
        "snapshot",
        volume_id=vid,
        storage_node="st1",
        size_gb=2,
    )
    first, _ = scheduler()
    die_after(node, "create_snapshot")
    with pytest.raises(Died):
        first.create_snapshot(ctxt, tid, sid)
    with engine.session() as s:  # gone from the records meanwhile
        s.execute(
            sa.update(models.Snapshot)
            .where(models.Snapshot.id == sid)
            .values(status="deleted")
        )

    adopt(scheduler, tid)
    t = row(models.Task, tid)
    assert t.status == "failed"
    assert "deleted while it was being created" in t.error_message
    assert ("undo-snapshot", "done", "st1") in steps(tid)
    assert node.backend.snapshots == {}
    assert row(models.Snapshot, sid).status == "deleted"


def test_a_storage_agent_that_does_not_answer_is_asked_again(
    scheduler, sta, ctxt
):
    # sta restarting: no answer to the first ask, the second is answered.
    add_sta("st1")
    vid, tid = add_record(
        models.Volume, "volume", "delete", size_gb=2, storage_node="st1"
    )
    node = sta.node("st1")
    node.create_volume({}, {"id": vid, "size_gb": 2})
    real = node.delete_volume

    def restarting(*a, **kw):
        node.delete_volume = real
        raise messaging.MessagingTimeout("no reply")

    node.delete_volume = restarting
    m, _ = scheduler()
    m.delete_volume(ctxt, tid, vid)
    assert row(models.Task, tid).status == "done"
    assert sta.methods() == ["delete_volume", "delete_volume"]
    assert node.backend.volumes == {}


# -- attachments ----------------------------------------------------------------


def guest(add_instance, hv) -> str:
    """A running instance on hv1, in the records and on the fake host."""
    iid, _ = add_instance(status="running", host=HOST, claimed=True)
    with engine.session() as s:
        s.add(
            models.Host(
                id=ids.generate("host"),
                name=HOST,
                hypervisor_type="fake",
                storage_address=INITIATOR,
                last_report_at=models.utcnow(),
            )
        )
    hv.manager_for(HOST).driver.spawn(
        {"id": iid, "name": "web-1", "hostname": "web-1"}
    )
    return iid


def data_volume(sta, status, instance_id, action):
    vid, tid = add_record(
        models.Volume,
        "volume",
        action,
        size_gb=1,
        status=status,
        storage_node=NODE,
        instance_id=instance_id,
    )
    sta.node(NODE).create_volume({}, {"id": vid, "size_gb": 1})
    return vid, tid


def disks(hv, iid):
    return hv.manager_for(HOST).driver.volumes(iid)


def test_an_attach_resumes_with_the_credentials_it_gave_the_host(
    scheduler, sta, hv, ctxt, add_instance
):
    iid = guest(add_instance, hv)
    vid, tid = data_volume(sta, "attaching", iid, "attach")
    first, _ = scheduler()
    die_after(hv.manager_for(HOST), "attach_volume")
    with pytest.raises(Died):
        first.attach_volume(ctxt, tid, vid)
    creds = row(models.Volume, vid).chap_secret
    assert disks(hv, iid) == {vid: "vdc"}

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    vol = row(models.Volume, vid)
    assert (vol.status, vol.device, vol.chap_secret) == (
        "attached",
        "vdc",
        creds,
    )
    assert disks(hv, iid) == {vid: "vdc"}
    target = sta.node(NODE).iscsi
    assert target.login(vid, INITIATOR, vol.chap_user, creds)
    assert hv.methods() == ["attach_volume", "attach_volume"]
    assert sta.methods() == ["export_volume", "export_volume"]


def test_an_attach_whose_instance_was_deleted_meanwhile_leaves_nothing(
    scheduler, sta, hv, ctxt, add_instance
):
    iid = guest(add_instance, hv)
    vid, tid = data_volume(sta, "attaching", iid, "attach")
    first, _ = scheduler()
    die_after(hv.manager_for(HOST), "attach_volume")
    with pytest.raises(Died):
        first.attach_volume(ctxt, tid, vid)
    # The instance's delete ran while nobody ran the attach.
    dtid = start_task(
        models.Instance, iid, "shuttingdown", "instance", "delete"
    )
    DeleteFlow(ctxt, dtid, iid, hv, sta=sta).run()
    assert row(models.Instance, iid).status == "terminated"

    adopt(scheduler, tid)
    t = row(models.Task, tid)
    assert t.status == "failed" and t.error_message.startswith("cancelled")
    vol = row(models.Volume, vid)
    assert (vol.status, vol.instance_id) == ("available", None)
    assert vid not in sta.node(NODE).iscsi.targets
    assert iid not in hv.manager_for(HOST).driver.list_instances()


def test_a_detach_resumes_and_lands_available(
    scheduler, sta, hv, ctxt, add_instance
):
    iid = guest(add_instance, hv)
    vid, tid = data_volume(sta, "attaching", iid, "attach")
    m, _ = scheduler()
    m.attach_volume(ctxt, tid, vid)
    assert row(models.Volume, vid).status == "attached"
    dtid = start_task(models.Volume, vid, "detaching", "volume", "detach")
    die_after(hv.manager_for(HOST), "detach_volume")
    with pytest.raises(Died):
        m.detach_volume(ctxt, dtid, vid)

    adopt(scheduler, dtid)
    assert row(models.Task, dtid).status == "done"
    vol = row(models.Volume, vid)
    assert (vol.status, vol.instance_id, vol.device) == (
        "available",
        None,
        None,
    )
    assert disks(hv, iid) == {}
    assert vid not in sta.node(NODE).iscsi.targets
    assert hv.methods().count("detach_volume") == 2


def test_a_detach_whose_instance_was_deleted_meanwhile_is_done(
    scheduler, sta, hv, ctxt, add_instance
):
    iid = guest(add_instance, hv)
    vid, tid = data_volume(sta, "attaching", iid, "attach")
    m, _ = scheduler()
    m.attach_volume(ctxt, tid, vid)
    dtid = start_task(models.Volume, vid, "detaching", "volume", "detach")
    with engine.session() as s:
        assert Leases().take(s, dtid)  # and its scheduler died
    itid = start_task(
        models.Instance, iid, "shuttingdown", "instance", "delete"
    )
    DeleteFlow(ctxt, itid, iid, hv, sta=sta).run()
    hv.calls.clear()

    adopt(scheduler, dtid)
    t = row(models.Task, dtid)
    assert t.status == "done"
    assert [e.message for e in task_row_events(dtid)] == [
        f"already detached (released: instance {iid} deleted)"
    ]
    assert row(models.Volume, vid).status == "available"
    assert hv.calls == []


def test_a_delete_does_not_wait_for_a_storage_node_that_is_down(
    scheduler, sta, hv, ctxt, add_instance
):
    # st1 has no heartbeat: its agent drops the export when it returns
    # (rebuild_exports removes those nobody expects).
    iid = guest(add_instance, hv)
    vid, tid = data_volume(sta, "attaching", iid, "attach")
    m, _ = scheduler()
    m.attach_volume(ctxt, tid, vid)
    sta.fail["unexport_volume"] = messaging.MessagingTimeout("no reply")
    dtid = start_task(
        models.Instance, iid, "shuttingdown", "instance", "delete"
    )
    m.delete_instance(ctxt, dtid, iid)
    assert row(models.Task, dtid).status == "done"
    assert row(models.Instance, iid).status == "terminated"
    assert ("release-volume", "failed", NODE) in steps(dtid)
    assert any(
        e.step == "release-volume" and "st1 is down" in (e.message or "")
        for e in task_row_events(dtid)
    )
    vol = row(models.Volume, vid)
    assert (vol.status, vol.instance_id) == ("available", None)
    assert sta.methods().count("unexport_volume") == 1


# -- security groups ------------------------------------------------------------


def test_a_group_refresh_resumes_on_the_hosts_it_had_not_done(
    scheduler, hv, ctxt, add_instance, add_host
):
    gid = secgroups_db.ensure_default("a-admin")
    members = {}
    for host in ("hv1", "hv2"):
        add_host(host)
        iid, _ = add_instance(status="running", host=host, claimed=True)
        with engine.session() as s:
            secgroups_db.set_membership(s, iid, [gid])
        members[host] = iid
    with engine.session() as s:
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id=gid,
            resource_type="security_group",
            action="update",
            timeout_s=600,
        ).id
    first, _ = scheduler()
    die_after(hv.manager_for("hv2"), "refresh_host_ports")
    with pytest.raises(Died):
        first.refresh_security_group(ctxt, tid, gid)

    adopt(scheduler, tid)
    assert row(models.Task, tid).status == "done"
    assert steps(tid) == [("apply", "done", "hv1"), ("apply", "done", "hv2")]
    assert hv.calls == [
        ("refresh_host_ports", "hv1"),
        ("refresh_host_ports", "hv2"),
        ("refresh_host_ports", "hv2"),
    ]


def test_a_group_refresh_on_a_host_that_went_down_fails_with_its_name(
    scheduler, hv, ctxt, add_instance, add_host
):
    gid = secgroups_db.ensure_default("a-admin")
    add_host("hv1", age_s=dt.timedelta(hours=1).total_seconds())
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    with engine.session() as s:
        secgroups_db.set_membership(s, iid, [gid])
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id=gid,
            resource_type="security_group",
            action="update",
            timeout_s=600,
        ).id
    hv.fail["refresh_host_ports"] = messaging.MessagingTimeout("no reply")
    m, _ = scheduler()
    m.refresh_security_group(ctxt, tid, gid)
    t = row(models.Task, tid)
    assert (t.status, t.error_step) == ("failed", "apply")
    assert t.error_message == "hv1: hv1 is down (no heartbeat)"
    assert hv.calls == [("refresh_host_ports", "hv1")]
