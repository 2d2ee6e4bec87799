"""The storage agent's endpoint over the fake backend and target."""

import hashlib
import logging

import oslo_messaging as messaging
import pytest

from arame.agents.sta import errors
from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.manager import RPCEndpoint, STAManager
from arame.agents.sta.targets.fake import FakeTarget

CTXT = {}
GiB = 1024**3
IMG, VOL, VOL2, SNAP = (
    "img-aaaa0001",
    "vol-aaaa0001",
    "vol-aaaa0002",
    "snap-aaaa0001",
)
PW = "Secret-pass-0001"
DATA = b"disk" * 4096
SHA = hashlib.sha256(DATA).hexdigest()


class SpyBackend(FakeBackend):
    """The fake backend, remembering every call that reached it."""

    def __init__(self):
        super().__init__()
        self.reached = []

    def __getattribute__(self, name):
        attr = super().__getattribute__(name)
        if name in (
            "create_volume",
            "delete_volume",
            "create_snapshot",
            "delete_snapshot",
            "import_image",
            "delete_image",
            "get_volume",
        ):
            self.reached.append(name)
        return attr


@pytest.fixture
def agent(tmp_path):
    imports = tmp_path / "import"
    imports.mkdir()
    (imports / "disk.raw").write_bytes(DATA)
    backend, target = SpyBackend(), FakeTarget(address="192.0.2.10")
    mgr = STAManager(
        backend, target, max_volume_gb=100, import_dirs=[str(imports)]
    )
    return mgr, backend, target, str(imports / "disk.raw")


def test_ping_still_answers(agent):
    assert agent[0].ping(CTXT)["binary"] == "arame-sta"


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.create_volume(CTXT, {"id": "vol-../../x", "size_gb": 1}),
        lambda m: m.create_volume(CTXT, {"id": VOL, "size_gb": 0}),
        lambda m: m.create_volume(CTXT, {"id": VOL, "size_gb": 101}),
        lambda m: m.create_volume(CTXT, {"id": VOL, "size_gb": "1"}),
        lambda m: m.create_volume(
            CTXT, {"id": VOL, "size_gb": 1, "image_id": "img-x;rm"}
        ),
        lambda m: m.create_volume(
            CTXT, {"id": VOL, "size_gb": 1, "snapshot_id": VOL}
        ),
        lambda m: m.create_volume(
            CTXT,
            {"id": VOL, "size_gb": 1, "image_id": IMG, "snapshot_id": SNAP},
        ),
        lambda m: m.delete_volume(CTXT, "tank/volumes"),
        lambda m: m.create_snapshot(CTXT, {"id": "snap-1", "volume_id": VOL}),
        lambda m: m.create_snapshot(CTXT, {"id": SNAP, "volume_id": "v"}),
        lambda m: m.delete_snapshot(CTXT, "snap-aaaa0001@x"),
        lambda m: m.export_volume(CTXT, VOL, "10.0.0.0/8", "u-1", PW),
        lambda m: m.export_volume(CTXT, VOL, "ALL", "u-1", PW),
        lambda m: m.export_volume(CTXT, VOL, "10.0.0.5", "--user", PW),
        lambda m: m.export_volume(CTXT, VOL, "10.0.0.5", "u-1", "short"),
        lambda m: m.export_volume(CTXT, "vol-x", "10.0.0.5", "u-1", PW),
        lambda m: m.unexport_volume(CTXT, "vol-x"),
        lambda m: m.import_image(CTXT, "img-x", "/etc/passwd", SHA, 1),
        lambda m: m.import_image(CTXT, IMG, "/etc/passwd", SHA, 1),
        lambda m: m.import_image(CTXT, IMG, "/etc/passwd", "nothex", 1),
        lambda m: m.import_image(CTXT, IMG, "/etc/passwd", SHA, 0),
        lambda m: m.delete_image(CTXT, "img-"),
        lambda m: m.create_volume(CTXT, None),
        lambda m: m.create_snapshot(CTXT, [SNAP, VOL]),
        lambda m: m.rebuild_exports(CTXT, {"volume_id": VOL}),
        lambda m: m.rebuild_exports(CTXT, [VOL]),
        lambda m: m.rebuild_exports(
            CTXT,
            [
                {
                    "volume_id": VOL,
                    "initiator_address": "x",
                    "chap_user": "u-1",
                    "chap_secret": PW,
                }
            ],
        ),
    ],
)
def test_nothing_malformed_reaches_the_backend(agent, call):
    mgr, backend, target, _ = agent
    with pytest.raises(errors.InvalidRequest):
        call(mgr)
    assert backend.reached == [] and target.targets == {}


def test_volume_from_an_imported_image_exported_with_chap(agent):
    mgr, _, target, path = agent
    assert mgr.import_image(CTXT, IMG, path, SHA, len(DATA)) == {
        "id": IMG,
        "size_bytes": len(DATA),
        "sha256": SHA,
    }
    spec = {"id": VOL, "size_gb": 2, "image_id": IMG}
    assert mgr.create_volume(CTXT, spec) == {
        "id": VOL,
        "size_bytes": 2 * GiB,
        "origin": IMG,
    }
    assert mgr.create_volume(CTXT, spec) == {
        "id": VOL,
        "size_bytes": 2 * GiB,
        "origin": IMG,
    }
    conn = mgr.export_volume(CTXT, VOL, "10.0.0.5", "u-0001", PW)
    assert conn == {
        "iqn": "iqn.2025-01.org.arame:" + VOL,
        "portal": "192.0.2.10:3260",
        "lun": 1,
    }
    assert mgr.export_volume(CTXT, VOL, "10.0.0.5", "u-0001", PW) == conn
    assert target.login(VOL, "10.0.0.5", "u-0001", PW)
    assert not target.login(VOL, "10.0.0.5", "u-0001", "Wrong-pass-0001")
    assert not target.login(VOL, "10.0.0.6", "u-0001", PW)


def test_export_needs_a_complete_volume(agent):
    mgr, *_ = agent
    with pytest.raises(errors.VolumeNotFound):
        mgr.export_volume(CTXT, VOL, "10.0.0.5", "u-0001", PW)


def test_delete_volume_unexports_it_but_not_while_in_use(agent):
    mgr, _, target, _ = agent
    mgr.create_volume(CTXT, {"id": VOL, "size_gb": 1})
    mgr.export_volume(CTXT, VOL, "10.0.0.5", "u-0001", PW)
    target.login(VOL, "10.0.0.5", "u-0001", PW)
    with pytest.raises(errors.ExportBusy):
        mgr.delete_volume(CTXT, VOL)
    assert mgr.list_resources(CTXT)["volumes"][0]["id"] == VOL
    mgr.unexport_volume(CTXT, VOL, force=True)
    assert mgr.delete_volume(CTXT, VOL) == {}
    assert mgr.delete_volume(CTXT, VOL) == {}
    assert mgr.unexport_volume(CTXT, VOL) == {}
    assert mgr.list_resources(CTXT) == {
        "volumes": [],
        "snapshots": [],
        "images": [],
        "exports": [],
    }


def test_snapshots_and_their_dependents(agent):
    mgr, *_ = agent
    mgr.create_volume(CTXT, {"id": VOL, "size_gb": 1})
    mgr.create_snapshot(CTXT, {"id": SNAP, "volume_id": VOL})
    mgr.create_volume(CTXT, {"id": VOL2, "size_gb": 1, "snapshot_id": SNAP})
    with pytest.raises(errors.SnapshotHasDependents, match=VOL2):
        mgr.delete_snapshot(CTXT, SNAP)
    with pytest.raises(errors.VolumeHasSnapshots, match=SNAP):
        mgr.delete_volume(CTXT, VOL)
    mgr.delete_volume(CTXT, VOL2)
    mgr.delete_snapshot(CTXT, SNAP)
    mgr.delete_volume(CTXT, VOL)


def test_import_only_from_the_import_directories(agent, tmp_path):
    mgr, backend, _, _ = agent
    outside = tmp_path / "elsewhere.raw"
    outside.write_bytes(DATA)
    with pytest.raises(errors.InvalidRequest, match="import_dirs"):
        mgr.import_image(CTXT, IMG, str(outside), SHA, len(DATA))
    assert backend.reached == []


def test_import_checks_the_bytes(agent):
    mgr, _, _, path = agent
    with pytest.raises(errors.ImageDataInvalid):
        mgr.import_image(CTXT, IMG, path, "0" * 64, len(DATA))
    with pytest.raises(errors.ImageDataInvalid):
        mgr.import_image(CTXT, IMG, path, SHA, len(DATA) + 1)
    assert mgr.list_resources(CTXT)["images"] == []
    mgr.import_image(CTXT, IMG, path, SHA, len(DATA))
    mgr.delete_image(CTXT, IMG)
    mgr.delete_image(CTXT, IMG)


def test_rebuild_exports_after_the_target_daemon_restarted(agent):
    mgr, _, target, _ = agent
    for v in (VOL, VOL2):
        mgr.create_volume(CTXT, {"id": v, "size_gb": 1})
    expected = [
        {
            "volume_id": v,
            "initiator_address": "10.0.0.5",
            "chap_user": f"u-{v}",
            "chap_secret": PW,
        }
        for v in (VOL, VOL2, "vol-gone0001")
    ]
    for e in expected[:2]:
        mgr.export_volume(CTXT, **e)
    target.restart()
    assert mgr.list_resources(CTXT)["exports"] == []
    result = mgr.rebuild_exports(CTXT, expected)
    assert result["restored"] == [VOL, VOL2]
    assert list(result["failed"]) == ["vol-gone0001"]
    assert target.login(VOL2, "10.0.0.5", f"u-{VOL2}", PW)
    again = mgr.rebuild_exports(CTXT, expected[:2])
    assert again["unchanged"] == [VOL, VOL2] and again["restored"] == []


def test_capacity_and_the_heartbeat_inventory(agent):
    mgr, *_ = agent
    mgr.create_volume(CTXT, {"id": VOL, "size_gb": 3})
    cap = mgr.capacity(CTXT)
    assert cap["provisioned_bytes"] == 3 * GiB
    assert mgr.inventory() == {"storage": cap}


def test_inventory_survives_a_broken_pool(agent, monkeypatch):
    mgr, backend, *_ = agent

    def broken():
        raise errors.StorageError("pool gone")

    monkeypatch.setattr(backend, "capacity", broken)
    assert mgr.inventory() == {}


def test_refusals_over_the_bus(bus, parsed_conf, agent, caplog):
    from arame.agents.sta import rpcapi
    from arame.common import rpc
    from arame.common.context import admin_context

    mgr, *_ = agent
    server = rpc.get_server(rpcapi.TOPIC, "st1", [RPCEndpoint(mgr)])
    server.start()
    try:
        api = rpcapi.STAAPI()
        ctxt = admin_context()
        assert (
            api.create_volume(
                ctxt, "st1", {"id": VOL, "size_gb": 1}, timeout=10
            )["id"]
            == VOL
        )
        api.create_snapshot(
            ctxt, "st1", {"id": SNAP, "volume_id": VOL}, timeout=10
        )
        # fake:// hands the exception object back; rabbit:// a RemoteError.
        with pytest.raises(
            (messaging.RemoteError, errors.VolumeHasSnapshots)
        ) as exc:
            api.delete_volume(ctxt, "st1", VOL, timeout=10)
        assert "VolumeHasSnapshots" in (
            getattr(exc.value, "exc_type", None) or type(exc.value).__name__
        )
        with pytest.raises((messaging.RemoteError, errors.InvalidRequest)):
            api.delete_volume(ctxt, "st1", "../x", timeout=10)
        assert api.list_resources(ctxt, "st1", timeout=10)["snapshots"] == [
            {"id": SNAP, "volume_id": VOL}
        ]
        assert api.capacity(ctxt, "st1", timeout=10)["pool"] == "fake"
        assert api.ping(ctxt, "st1")["binary"] == "arame-sta"
    finally:
        server.stop()
        server.wait()
    # Refusals are answers, not agent failures: no traceback logged.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
