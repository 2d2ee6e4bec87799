"""What every storage backend promises (backends/base.py), checked on the
fake and on the ZFS backend over the emulated zfs command."""

import hashlib
import io

import pytest

from arame.agents.sta import errors
from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.backends.zfs import ZFSBackend

GiB = 1024**3
IMG, VOL, VOL2, SNAP = (
    "img-aaaa0001",
    "vol-aaaa0001",
    "vol-aaaa0002",
    "snap-aaaa0001",
)
DATA = b"image-bytes" * 1000
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(params=["fake", "zfs"])
def backend(request, tmp_path):
    if request.param == "fake":
        return FakeBackend()
    emu = request.getfixturevalue("zfs_emu")
    b = ZFSBackend(emu.pool)
    b.init_host()
    return b


def imported(b, image_id=IMG):
    return b.import_image(image_id, io.BytesIO(DATA), len(DATA), SHA)


def test_volume_from_image_and_idempotence(backend):
    img = imported(backend)
    assert (img.size_bytes, img.sha256) == (len(DATA), SHA)
    assert imported(backend) == img
    v = backend.create_volume(VOL, GiB, image_id=IMG)
    assert (v.id, v.size_bytes, v.origin) == (VOL, GiB, IMG)
    assert backend.create_volume(VOL, GiB, image_id=IMG) == v
    assert backend.get_volume(VOL) == v
    with pytest.raises(errors.VolumeExists):
        backend.create_volume(VOL, 2 * GiB, image_id=IMG)


def test_an_image_with_other_bytes_under_the_same_id_is_refused(backend):
    imported(backend)
    other = b"other"
    with pytest.raises(errors.ImageExists):
        backend.import_image(
            IMG,
            io.BytesIO(other),
            len(other),
            hashlib.sha256(other).hexdigest(),
        )


def test_bad_image_bytes_leave_nothing(backend):
    with pytest.raises(errors.ImageDataInvalid):
        backend.import_image(IMG, io.BytesIO(DATA), len(DATA), "0" * 64)
    assert backend.list_resources()["images"] == []
    with pytest.raises(errors.ImageNotFound):
        backend.create_volume(VOL, GiB, image_id=IMG)


def test_missing_origins(backend):
    with pytest.raises(errors.ImageNotFound):
        backend.create_volume(VOL, GiB, image_id=IMG)
    with pytest.raises(errors.SnapshotNotFound):
        backend.create_volume(VOL, GiB, snapshot_id=SNAP)
    with pytest.raises(errors.VolumeNotFound):
        backend.create_snapshot(SNAP, VOL)
    with pytest.raises(errors.VolumeNotFound):
        backend.get_volume(VOL)


def test_volume_smaller_than_its_snapshot_is_refused(backend):
    backend.create_volume(VOL, 2 * GiB)
    backend.create_snapshot(SNAP, VOL)
    with pytest.raises(errors.VolumeTooSmall):
        backend.create_volume(VOL2, GiB, snapshot_id=SNAP)
    assert (
        backend.create_volume(VOL2, 3 * GiB, snapshot_id=SNAP).origin == SNAP
    )


def test_snapshot_rules(backend):
    backend.create_volume(VOL, GiB)
    assert backend.create_snapshot(SNAP, VOL) == {"id": SNAP, "volume_id": VOL}
    assert backend.create_snapshot(SNAP, VOL) == {"id": SNAP, "volume_id": VOL}
    backend.create_volume(VOL2, GiB, snapshot_id=SNAP)
    with pytest.raises(errors.SnapshotExists):
        backend.create_snapshot(SNAP, VOL2)
    with pytest.raises(errors.VolumeHasSnapshots) as exc:
        backend.delete_volume(VOL)
    assert exc.value.details["snapshots"] == [SNAP]
    with pytest.raises(errors.SnapshotHasDependents) as exc:
        backend.delete_snapshot(SNAP)
    assert exc.value.details["volumes"] == [VOL2]
    assert VOL2 in str(exc.value)
    backend.delete_volume(VOL2)
    backend.delete_snapshot(SNAP)
    backend.delete_snapshot(SNAP)
    backend.delete_volume(VOL)
    backend.delete_volume(VOL)
    assert backend.list_resources() == {
        "volumes": [],
        "snapshots": [],
        "images": [],
    }


def test_deleting_an_image_keeps_its_volumes(backend):
    imported(backend)
    backend.create_volume(VOL, GiB, image_id=IMG)
    backend.create_volume(VOL2, GiB, image_id=IMG)
    backend.delete_image(IMG)
    backend.delete_image(IMG)
    res = backend.list_resources()
    assert res["images"] == []
    assert [v["id"] for v in res["volumes"]] == [VOL, VOL2]
    assert backend.get_volume(VOL).origin == IMG
    backend.delete_volume(VOL)
    backend.delete_volume(VOL2)
    assert backend.list_resources()["volumes"] == []


def test_capacity(backend):
    imported(backend)
    backend.create_volume(VOL, 5 * GiB, image_id=IMG)
    cap = backend.capacity()
    assert cap["provisioned_bytes"] == 5 * GiB
    assert cap["size_bytes"] == cap["free_bytes"] + cap["allocated_bytes"]
    assert cap["volume_mode"] == "file"
