"""Every sta operation asked twice gives the same answer and leaves the
same pool and targets (manager.py's rule): through the manager over the
fake backend and target, and over the ZFS backend and tgt targets with
their commands emulated; then where the real drivers' answer depends on
what the command says ("dataset already exists", "this target already
exists")."""

import hashlib

import pytest

from arame.agents.sta import errors
from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.backends.zfs import ZFSBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.fake import FakeTarget
from arame.agents.sta.targets.tgt import TgtTarget
from arame.common import runner

from .emulators import TgtEmulator, ZFSEmulator

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


@pytest.fixture(params=["fake", "zfs-tgt"])
def agent(request, tmp_path, monkeypatch):
    imports = tmp_path / "import"
    imports.mkdir()
    (imports / "disk.raw").write_bytes(DATA)
    if request.param == "fake":
        backend, target = FakeBackend(), FakeTarget()
    else:
        zfs, tgt = ZFSEmulator(str(tmp_path / "mnt")), TgtEmulator()

        def run(args, **kw):
            return (zfs if args[0] == "zfs" else tgt).run(args, **kw)

        monkeypatch.setattr(runner, "run", run)
        backend = ZFSBackend(zfs.pool)
        backend.init_host()
        target = TgtTarget("192.0.2.10", 3260, "2025-01", "org.arame")
    mgr = STAManager(
        backend, target, max_volume_gb=100, import_dirs=[str(imports)]
    )
    mgr.source = str(imports / "disk.raw")
    return mgr


def twice(op, *args):
    first, second = op(CTXT, *args), op(CTXT, *args)
    assert first == second
    return second


def held(mgr) -> dict:
    """What the pool and the target hold, as the reconciler sees it."""
    res = mgr.list_resources(CTXT)
    return {
        "volumes": [
            (v["id"], v["origin"], v["ready"]) for v in res["volumes"]
        ],
        "snapshots": [(s["id"], s["volume_id"]) for s in res["snapshots"]],
        "images": [i["id"] for i in res["images"]],
        "exports": [(e["volume_id"], e["initiators"]) for e in res["exports"]],
    }


def imported(mgr):
    return mgr.import_image(CTXT, IMG, mgr.source, SHA, len(DATA))


def test_import_image_twice(agent):
    first = imported(agent)
    assert (
        imported(agent)
        == first
        == {
            "id": IMG,
            "size_bytes": len(DATA),
            "sha256": SHA,
        }
    )
    assert held(agent)["images"] == [IMG]


def test_create_blank_volume_twice(agent):
    answer = twice(agent.create_volume, {"id": VOL, "size_gb": 1})
    assert answer == {"id": VOL, "size_bytes": GiB, "origin": None}
    assert held(agent)["volumes"] == [(VOL, None, True)]


def test_clone_of_an_image_twice(agent):
    imported(agent)
    answer = twice(
        agent.create_volume, {"id": VOL, "size_gb": 1, "image_id": IMG}
    )
    assert answer["origin"] == IMG
    assert held(agent)["volumes"] == [(VOL, IMG, True)]


def test_snapshot_and_its_clone_twice(agent):
    agent.create_volume(CTXT, {"id": VOL, "size_gb": 1})
    snapshot = {"id": SNAP, "volume_id": VOL}
    assert twice(agent.create_snapshot, snapshot) == snapshot
    clone = {"id": VOL2, "size_gb": 2, "snapshot_id": SNAP}
    assert twice(agent.create_volume, clone)["origin"] == SNAP
    assert held(agent)["snapshots"] == [(SNAP, VOL)]
    assert held(agent)["volumes"] == [(VOL, None, True), (VOL2, SNAP, True)]


def test_the_same_id_with_another_size_is_refused_not_replaced(agent):
    agent.create_volume(CTXT, {"id": VOL, "size_gb": 1})
    with pytest.raises(errors.VolumeExists):
        agent.create_volume(CTXT, {"id": VOL, "size_gb": 2})
    assert agent.backend.get_volume(VOL).size_bytes == GiB


def test_deletes_twice_and_of_what_never_was(agent):
    imported(agent)
    agent.create_volume(CTXT, {"id": VOL, "size_gb": 1, "image_id": IMG})
    agent.create_snapshot(CTXT, {"id": SNAP, "volume_id": VOL})
    assert twice(agent.delete_snapshot, SNAP) == {}
    assert twice(agent.delete_volume, VOL) == {}
    assert twice(agent.delete_image, IMG) == {}
    assert agent.delete_volume(CTXT, VOL2) == {}
    assert agent.delete_snapshot(CTXT, "snap-ffff0000") == {}
    assert held(agent) == {
        "volumes": [],
        "snapshots": [],
        "images": [],
        "exports": [],
    }


def test_export_twice_answers_the_same_connection(agent):
    agent.create_volume(CTXT, {"id": VOL, "size_gb": 1})
    conn = twice(agent.export_volume, VOL, "10.0.0.5", "u-0001", PW)
    assert conn == {
        "iqn": "iqn.2025-01.org.arame:" + VOL,
        "portal": agent.iscsi.portal,
        "lun": 1,
    }
    assert held(agent)["exports"] == [(VOL, ("10.0.0.5",))]


def test_unexport_twice_and_of_a_volume_never_exported(agent):
    agent.create_volume(CTXT, {"id": VOL, "size_gb": 1})
    agent.export_volume(CTXT, VOL, "10.0.0.5", "u-0001", PW)
    assert twice(agent.unexport_volume, VOL) == {}
    assert agent.unexport_volume(CTXT, VOL2) == {}
    assert held(agent)["exports"] == []


def test_rebuild_exports_twice(agent):
    agent.create_volume(CTXT, {"id": VOL, "size_gb": 1})
    expected = [
        {
            "volume_id": VOL,
            "initiator_address": "10.0.0.5",
            "chap_user": "u-0001",
            "chap_secret": PW,
        }
    ]
    assert agent.rebuild_exports(CTXT, expected)["restored"] == [VOL]
    again = agent.rebuild_exports(CTXT, expected)
    assert (again["restored"], again["unchanged"]) == ([], [VOL])
    assert held(agent)["exports"] == [(VOL, ("10.0.0.5",))]


# -- what the real drivers make of the commands' answers -----------------
def stale_once(monkeypatch, obj, name, stale):
    """obj.name answers `stale` once (a look taken before someone else's
    change), then the truth."""
    real = getattr(obj, name)
    calls = []

    def look(*args, **kw):
        calls.append(args)
        return stale if len(calls) == 1 else real(*args, **kw)

    monkeypatch.setattr(obj, name, look)


@pytest.fixture
def zfs_backend(zfs_emu):
    b = ZFSBackend(zfs_emu.pool)
    b.init_host()
    return b


def test_zfs_volume_made_meanwhile_is_the_answer(
    zfs_emu, zfs_backend, monkeypatch
):
    """The look found nothing; `zfs create` says "dataset already exists":
    the complete volume of the same size there is the one asked for."""
    made = zfs_backend.create_volume(VOL, GiB)
    stale_once(monkeypatch, zfs_backend.zfs, "get_one", None)
    n = len(zfs_emu.calls)
    assert zfs_backend.create_volume(VOL, GiB) == made
    # The refused create, and nothing destroyed or made again.
    changes = [c[1] for c in zfs_emu.calls[n:] if c[1] not in ("get", "list")]
    assert changes == ["create"]
    assert zfs_emu.names() == [
        "tank",
        "tank/images",
        "tank/volumes",
        "tank/volumes/" + VOL,
    ]


def test_zfs_clone_made_meanwhile_is_the_answer(
    zfs_emu, zfs_backend, monkeypatch
):
    import io

    zfs_backend.import_image(IMG, io.BytesIO(DATA), len(DATA), SHA)
    made = zfs_backend.create_volume(VOL, GiB, image_id=IMG)
    stale_once(monkeypatch, zfs_backend.zfs, "get_one", None)
    assert zfs_backend.create_volume(VOL, GiB, image_id=IMG) == made
    with pytest.raises(errors.VolumeExists):
        stale_once(monkeypatch, zfs_backend.zfs, "get_one", None)
        zfs_backend.create_volume(VOL, 2 * GiB, image_id=IMG)


def test_zfs_half_made_meanwhile_is_not_undone(
    zfs_emu, zfs_backend, monkeypatch
):
    """Someone else is making it: refused, and their dataset left alone."""
    zfs_emu.run(["zfs", "create", "tank/volumes/" + VOL])
    stale_once(monkeypatch, zfs_backend.zfs, "get_one", None)
    with pytest.raises(errors.StorageError, match="someone else"):
        zfs_backend.create_volume(VOL, GiB)
    assert "tank/volumes/" + VOL in zfs_emu.names()


def test_zfs_snapshot_taken_meanwhile_is_the_answer(
    zfs_emu, zfs_backend, monkeypatch
):
    zfs_backend.create_volume(VOL, GiB)
    zfs_backend.create_snapshot(SNAP, VOL)
    stale_once(monkeypatch, zfs_backend, "_find_snapshot", None)
    assert zfs_backend.create_snapshot(SNAP, VOL) == {
        "id": SNAP,
        "volume_id": VOL,
    }
    assert zfs_emu.names(("snapshot",)) == [f"tank/volumes/{VOL}@{SNAP}"]


def test_zfs_other_failures_still_fail(zfs_emu, zfs_backend):
    with pytest.raises(runner.CommandError, match="parent does not exist"):
        zfs_backend.zfs.create("tank/nowhere/" + VOL)


@pytest.fixture
def tgt(tgt_emu):
    return TgtTarget("192.0.2.10", 3260, "2025-01", "org.arame")


PATH = "/tank/volumes/vol-aaaa0001/disk.raw"


def test_tgt_target_made_meanwhile_is_the_answer(tgt, tgt_emu, monkeypatch):
    """The listing missed it; `tgtadm --op new` says "this target already
    exists": the target found on reading again is exported, once."""
    conn = tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    stale_once(monkeypatch, tgt, "_targets", [])
    assert tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW) == conn
    (t,) = tgt_emu.targets.values()
    assert (t.tid, t.luns, t.accounts, t.acl) == (
        1,
        {1: PATH},
        ["u-0001"],
        ["10.0.0.5"],
    )
    assert tgt_emu.accounts == {"u-0001": PW}


def test_tgt_tid_taken_meanwhile_takes_the_next(tgt, tgt_emu, monkeypatch):
    tgt.export(VOL2, PATH + "2", "10.0.0.5", "u-0002", PW)
    stale_once(monkeypatch, tgt, "_targets", [])
    tgt.export(VOL, PATH, "10.0.0.5", "u-0001", PW)
    assert {t.tid: t.iqn for t in tgt_emu.targets.values()} == {
        1: "iqn.2025-01.org.arame:" + VOL2,
        2: "iqn.2025-01.org.arame:" + VOL,
    }
