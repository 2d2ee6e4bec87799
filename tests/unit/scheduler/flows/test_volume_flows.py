"""Volume and snapshot flows: placement on a storage node, one sta call per
step, final states, and what a refusal or a silent agent leaves behind."""

import datetime as dt
import hashlib

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.agents.sta import errors as sta_errors
from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.fake import FakeTarget
from arame.common import ids, tasks
from arame.common.db import engine, models
from arame.scheduler.flows import volumes as flows

from .conftest import RecordingProxy, start_task

GiB = 1024**3
DISK = b"bootable" * 8192
SHA = hashlib.sha256(DISK).hexdigest()


class FakeSTA(RecordingProxy):
    """Stands in for agents.sta.rpcapi.STAAPI: a real STAManager over the
    fake backend per node (RecordingProxy records and fails calls)."""

    expected = sta_errors.EXPECTED

    def __init__(self, import_dir: str):
        super().__init__()
        self.import_dir = import_dir
        self.nodes: dict[str, STAManager] = {}

    def node(self, name: str) -> STAManager:
        if name not in self.nodes:
            self.nodes[name] = STAManager(
                FakeBackend(),
                FakeTarget(),
                max_volume_gb=100,
                import_dirs=[self.import_dir],
            )
        return self.nodes[name]

    manager_for = node


@pytest.fixture
def sta(tmp_path, sched_conf):
    imports = tmp_path / "import"
    imports.mkdir()
    sched_conf("import_dirs", [str(imports)], group="sta")
    return FakeSTA(str(imports))


@pytest.fixture
def add_sta(db):
    def add(name, *, up=True):
        import datetime as dt

        at = models.utcnow() - dt.timedelta(seconds=0 if up else 3600)
        with engine.session() as s:
            s.add(
                models.Service(
                    host=name,
                    binary="arame-sta",
                    topic="sta",
                    version="t",
                    last_heartbeat_at=at,
                )
            )

    return add


def add_record(
    model, kind, action="create", *, account_id="a-admin", **values
):
    """A volume or snapshot row and its task, as the API writes them."""
    rid = ids.generate(kind)
    now = models.utcnow()
    values.setdefault(
        "status", "pending" if action == "create" else "deleting"
    )
    with engine.session() as s:
        s.add(
            model(
                id=rid,
                name=f"{kind}-1",
                account_id=account_id,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
        s.flush()
        tid = tasks.create(
            s,
            account_id=account_id,
            resource_id=rid,
            resource_type=kind,
            action=action,
            timeout_s=600,
        ).id
    return rid, tid


@pytest.fixture
def add_volume(cloud):
    def add(action="create", size_gb=2, **values):
        return add_record(
            models.Volume, "volume", action, size_gb=size_gb, **values
        )

    return add


@pytest.fixture
def add_snapshot(cloud):
    def add(volume_id, action="create", node="st1", size_gb=2, **values):
        return add_record(
            models.Snapshot,
            "snapshot",
            action,
            volume_id=volume_id,
            storage_node=node,
            size_gb=size_gb,
            **values,
        )

    return add


@pytest.fixture
def run(ctxt, sta):
    def go(kind, action, rid, tid):
        flows.FLOWS[(kind, action)](ctxt, tid, rid, sta).run()

    return go


def events(task):
    return [(e.step, e.status, e.host) for e in task.events]


def raw_image(tmp_path, sta, located_on=()):
    """A raw image whose bytes wait in the import directory."""
    img_id = ids.generate("image")
    (tmp_path / "import" / f"{img_id}.raw").write_bytes(DISK)
    with engine.session() as s:
        s.add(
            models.Image(
                id=img_id,
                name="disk",
                account_id="a-admin",
                visibility="public",
                format="raw",
                status="available",
                size_bytes=len(DISK),
                sha256=SHA,
            )
        )
        for node in located_on:
            s.add(models.ImageLocation(image_id=img_id, storage_node=node))
    return img_id


# -- create volume -------------------------------------------------------------


def test_empty_volume_is_created_on_a_live_node_and_ends_available(
    run, sta, add_sta, add_volume, get_row
):
    add_sta("st1")
    vid, tid = add_volume(size_gb=3)
    run("volume", "create", vid, tid)

    task = get_row(models.Task, tid)
    assert task.status == "done" and task.error_message is None
    assert events(task) == [
        ("schedule", "done", "st1"),
        ("volume", "done", "st1"),
    ]
    vol = get_row(models.Volume, vid)
    assert (vol.status, vol.storage_node, vol.status_reason) == (
        "available",
        "st1",
        None,
    )
    assert sta.calls == [("create_volume", "st1")]
    assert sta.node("st1").backend.volumes[vid] == {
        "size_bytes": 3 * GiB,
        "origin": None,
    }


def test_no_live_storage_node_fails_at_schedule(
    run, sta, add_sta, add_volume, get_row
):
    add_sta("old", up=False)
    vid, tid = add_volume()
    run("volume", "create", vid, tid)

    task = get_row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "schedule")
    assert "no storage node (arame-sta) is up" in task.error_message
    vol = get_row(models.Volume, vid)
    assert vol.status == "error"
    assert vol.status_reason.startswith(
        "create failed at schedule: no storage node"
    )
    assert sta.calls == []


def test_volume_goes_to_the_least_provisioned_node(
    run, add_sta, add_volume, get_row
):
    add_sta("st1")
    add_sta("st2")
    add_volume(size_gb=50, status="available", storage_node="st1")
    add_volume(size_gb=50, status="deleted", storage_node="st2")
    vid, tid = add_volume()
    run("volume", "create", vid, tid)
    assert get_row(models.Volume, vid).storage_node == "st2"


def test_volume_from_an_image_imports_it_once_per_node(
    run, sta, add_sta, add_volume, get_row, tmp_path
):
    add_sta("st1")
    img = raw_image(tmp_path, sta)
    vid, tid = add_volume(image_id=img, size_gb=1)
    run("volume", "create", vid, tid)

    assert events(get_row(models.Task, tid)) == [
        ("schedule", "done", "st1"),
        ("import-image", "done", "st1"),
        ("volume", "done", "st1"),
    ]
    assert get_row(models.ImageLocation, (img, "st1")) is not None
    assert sta.node("st1").backend.volumes[vid]["origin"] == img

    again, tid2 = add_volume(image_id=img, size_gb=1)
    run("volume", "create", again, tid2)
    assert sta.methods() == ["import_image", "create_volume", "create_volume"]
    assert get_row(models.Volume, again).status == "available"


def test_volume_from_an_image_prefers_a_node_that_holds_it(
    run, sta, add_sta, add_volume, get_row, tmp_path
):
    add_sta("st1")
    add_sta("st2")
    add_volume(size_gb=50, status="available", storage_node="st2")
    img = raw_image(tmp_path, sta, located_on=["st2"])
    sta.node("st2").import_image(
        {}, img, str(tmp_path / "import" / f"{img}.raw"), SHA, len(DISK)
    )
    vid, tid = add_volume(image_id=img, size_gb=1)
    run("volume", "create", vid, tid)
    assert get_row(models.Volume, vid).storage_node == "st2"
    assert sta.methods() == ["create_volume"]


def test_volume_from_a_snapshot_goes_to_the_snapshots_node(
    run, sta, add_sta, add_volume, add_snapshot, get_row
):
    add_sta("st1")
    add_sta("st2")
    src, _ = add_volume(size_gb=50, status="available", storage_node="st1")
    sta.node("st1").create_volume({}, {"id": src, "size_gb": 50})
    snap, _ = add_snapshot(src, status="available", size_gb=50)
    sta.node("st1").create_snapshot({}, {"id": snap, "volume_id": src})

    vid, tid = add_volume(snapshot_id=snap, size_gb=50)
    run("volume", "create", vid, tid)
    vol = get_row(models.Volume, vid)
    assert (vol.status, vol.storage_node) == ("available", "st1")
    assert sta.node("st1").backend.volumes[vid]["origin"] == snap


def test_snapshot_on_a_dead_node_fails_the_schedule(
    run, sta, add_sta, add_volume, add_snapshot, get_row
):
    add_sta("st1", up=False)
    add_sta("st2")
    src, _ = add_volume(status="available", storage_node="st1")
    snap, _ = add_snapshot(src, status="available")
    vid, tid = add_volume(snapshot_id=snap)
    run("volume", "create", vid, tid)
    task = get_row(models.Task, tid)
    assert task.error_step == "schedule"
    assert task.error_message == (
        f"storage node st1 of snapshot {snap} is down"
    )
    assert get_row(models.Volume, vid).status == "error"
    assert sta.calls == []


def test_agent_failure_puts_the_volume_in_error_with_the_reason(
    run, sta, add_sta, add_volume, get_row
):
    add_sta("st1")
    vid, tid = add_volume()
    sta.fail["create_volume"] = messaging.RemoteError(
        "StorageError", "zfs create failed"
    )
    run("volume", "create", vid, tid)

    task = get_row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "volume")
    assert task.error_message == "StorageError: zfs create failed"
    assert events(task) == [
        ("schedule", "done", "st1"),
        ("volume", "failed", "st1"),
        ("undo-volume", "done", "st1"),
    ]
    vol = get_row(models.Volume, vid)
    assert vol.status == "error" and vol.storage_node == "st1"
    assert "StorageError: zfs create failed" in vol.status_reason


def test_silent_agent_is_named_and_a_failed_undo_leaves_it_to_delete(
    run, sta, add_sta, add_volume, get_row
):
    add_sta("st1")
    vid, tid = add_volume()

    def node_dies(*a, **kw):
        # Its heartbeats stop too: the flow stops asking it.
        with engine.session() as s:
            s.execute(
                sa.update(models.Service)
                .where(models.Service.host == "st1")
                .values(last_heartbeat_at=models.utcnow() - dt.timedelta(1))
            )
        raise messaging.MessagingTimeout("late")

    sta.node("st1").create_volume = node_dies
    sta.fail["delete_volume"] = messaging.MessagingTimeout("late")
    run("volume", "create", vid, tid)
    task = get_row(models.Task, tid)
    assert task.error_message == "st1 is down (no heartbeat)"
    assert sta.methods() == ["create_volume", "delete_volume"]
    assert ("undo-volume", "failed", "st1") in events(task)
    assert get_row(models.Volume, vid).status == "error"


def test_volume_deleted_before_the_flow_began_is_left_alone(
    run, sta, add_sta, add_volume, get_row
):
    add_sta("st1")
    vid, tid = add_volume(status="deleting")
    run("volume", "create", vid, tid)
    task = get_row(models.Task, tid)
    assert task.status == "failed" and "cancelled" in task.error_message
    assert get_row(models.Volume, vid).status == "deleting"
    assert sta.calls == []


# -- delete volume -------------------------------------------------------------


def test_delete_removes_it_from_its_node_and_keeps_the_record(
    run, sta, add_volume, get_row
):
    vid, tid = add_volume("delete", storage_node="st1")
    sta.node("st1").create_volume({}, {"id": vid, "size_gb": 2})
    run("volume", "delete", vid, tid)

    task = get_row(models.Task, tid)
    assert task.status == "done"
    assert events(task) == [("volume", "done", "st1")]
    vol = get_row(models.Volume, vid)
    assert vol.status == "deleted" and vol.deleted_at is not None
    assert sta.node("st1").backend.volumes == {}


def test_delete_of_a_volume_never_placed_calls_no_agent(
    run, sta, add_volume, get_row
):
    vid, tid = add_volume("delete")
    run("volume", "delete", vid, tid)
    assert get_row(models.Volume, vid).status == "deleted"
    assert sta.calls == []


def test_delete_of_a_volume_the_node_no_longer_has_succeeds(
    run, sta, add_volume, get_row
):
    vid, tid = add_volume("delete", storage_node="st1")
    sta.fail["delete_volume"] = messaging.RemoteError("VolumeNotFound", "no")
    run("volume", "delete", vid, tid)
    assert get_row(models.Volume, vid).status == "deleted"


def test_delete_refused_for_snapshots_says_which(
    run, sta, add_volume, get_row
):
    # A snapshot that raced the API's check: the agent is the backstop.
    vid, tid = add_volume("delete", storage_node="st1")
    node = sta.node("st1")
    node.create_volume({}, {"id": vid, "size_gb": 2})
    node.create_snapshot({}, {"id": "snap-aaaa0001", "volume_id": vid})
    run("volume", "delete", vid, tid)

    task = get_row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "volume")
    assert task.error_message.startswith("VolumeHasSnapshots: ")
    assert "snap-aaaa0001" in task.error_message
    vol = get_row(models.Volume, vid)
    assert vol.status == "error" and "snap-aaaa0001" in vol.status_reason
    assert vid in node.backend.volumes


# -- snapshots -----------------------------------------------------------------


def test_snapshot_is_taken_on_the_volumes_node(
    run, sta, add_volume, add_snapshot, get_row
):
    vid, _ = add_volume(status="available", storage_node="st1")
    sta.node("st1").create_volume({}, {"id": vid, "size_gb": 2})
    sid, tid = add_snapshot(vid)
    run("snapshot", "create", sid, tid)

    task = get_row(models.Task, tid)
    assert task.status == "done"
    assert events(task) == [("snapshot", "done", "st1")]
    assert get_row(models.Snapshot, sid).status == "available"
    assert sta.node("st1").backend.snapshots == {sid: vid}


def test_snapshot_of_a_volume_missing_on_its_node_ends_in_error(
    run, sta, add_volume, add_snapshot, get_row
):
    vid, _ = add_volume(status="available", storage_node="st1")
    sid, tid = add_snapshot(vid)
    run("snapshot", "create", sid, tid)
    task = get_row(models.Task, tid)
    assert task.error_step == "snapshot"
    assert task.error_message.startswith("VolumeNotFound: ")
    snap = get_row(models.Snapshot, sid)
    assert snap.status == "error" and "VolumeNotFound" in snap.status_reason
    assert sta.methods() == ["create_snapshot", "delete_snapshot"]


def test_snapshot_delete_and_its_refusal(
    run, sta, add_volume, add_snapshot, get_row
):
    vid, _ = add_volume(status="available", storage_node="st1")
    node = sta.node("st1")
    node.create_volume({}, {"id": vid, "size_gb": 2})
    kept, _ = add_snapshot(vid, status="available")
    node.create_snapshot({}, {"id": kept, "volume_id": vid})
    node.create_volume(
        {}, {"id": "vol-clone001", "size_gb": 2, "snapshot_id": kept}
    )

    sid, tid = add_snapshot(vid, "delete")
    node.create_snapshot({}, {"id": sid, "volume_id": vid})
    run("snapshot", "delete", sid, tid)
    snap = get_row(models.Snapshot, sid)
    assert snap.status == "deleted" and snap.deleted_at is not None
    assert sid not in node.backend.snapshots

    tid2 = start_task(models.Snapshot, kept, "deleting", "snapshot", "delete")
    run("snapshot", "delete", kept, tid2)
    task = get_row(models.Task, tid2)
    assert task.error_message.startswith("SnapshotHasDependents: ")
    assert "vol-clone001" in task.error_message
    assert get_row(models.Snapshot, kept).status == "error"


# -- the scheduler's endpoint ---------------------------------------------------


def test_scheduler_endpoints_run_the_flows(
    sta, add_sta, add_volume, add_snapshot, get_row
):
    from arame.common.context import admin_context
    from arame.scheduler.manager import SchedulerManager

    add_sta("st1")
    mgr = SchedulerManager(hva=object(), nsa=object(), sta=sta)
    vid, tid = add_volume()
    mgr.create_volume(admin_context(), tid, vid)
    assert get_row(models.Volume, vid).status == "available"
    sid, stid = add_snapshot(vid)
    mgr.create_snapshot(admin_context(), stid, sid)
    assert get_row(models.Snapshot, sid).status == "available"


def test_over_the_bus_with_a_real_storage_agent(
    bus, sta, add_sta, add_volume, get_row, wait_for
):
    """Scheduler API cast (1.1) -> scheduler -> sta call -> typed refusal."""
    from arame.agents.sta.manager import RPCEndpoint
    from arame.agents.sta.rpcapi import TOPIC as STA_TOPIC
    from arame.common import rpc
    from arame.common.context import admin_context
    from arame.scheduler import rpcapi
    from arame.scheduler.manager import SchedulerManager

    add_sta("st1")
    agent = sta.node("st1")
    servers = [
        rpc.get_server(rpcapi.TOPIC, "sched1", [SchedulerManager()]),
        rpc.get_server(STA_TOPIC, "st1", [RPCEndpoint(agent)]),
    ]
    for server in servers:
        server.start()
    try:
        api = rpcapi.SchedulerAPI()
        vid, tid = add_volume()
        api.create_volume(admin_context(), tid, vid)
        wait_for(lambda: get_row(models.Task, tid).status == "done")
        assert vid in agent.backend.volumes
        agent.create_snapshot({}, {"id": "snap-race0001", "volume_id": vid})
        with engine.session() as s:
            s.execute(
                sa.update(models.Volume)
                .where(models.Volume.id == vid)
                .values(status="deleting")
            )
            tid2 = tasks.create(
                s,
                account_id="a-admin",
                resource_id=vid,
                resource_type="volume",
                action="delete",
                timeout_s=600,
            ).id
        api.delete_volume(admin_context(), tid2, vid)
        wait_for(lambda: get_row(models.Task, tid2).status == "failed")
        assert get_row(models.Task, tid2).error_message.startswith(
            "VolumeHasSnapshots: "
        )
    finally:
        for server in servers:
            server.stop()
        for server in servers:
            server.wait()
