"""The zfs commands the ZFS backend runs, in file and zvol mode (zvol mode
is proven by these alone: zfs-fuse has no zvols)."""

import hashlib
import io
import os

import pytest

from arame.agents.sta import errors
from arame.agents.sta.backends import layouts
from arame.agents.sta.backends.zfs import ZFSBackend

GiB = 1024**3
MiB = 1024**2
IMG, VOL, VOL2, VOL3 = (
    "img-aaaa0001",
    "vol-aaaa0001",
    "vol-aaaa0002",
    "vol-aaaa0003",
)
DATA = b"\x5a" * 3000 + bytes(5000)
SHA = hashlib.sha256(DATA).hexdigest()


def changes(emu, since=0):
    """The commands that change something (not get/list)."""
    return [c[1:] for c in emu.calls[since:] if c[1] not in ("get", "list")]


@pytest.fixture
def file_backend(zfs_emu):
    b = ZFSBackend(zfs_emu.pool, "file")
    b.init_host()
    return b


@pytest.fixture
def zvol_backend(zfs_emu, tmp_path, monkeypatch):
    monkeypatch.setattr(layouts.ZvolLayout, "DEV", str(tmp_path / "dev"))
    b = ZFSBackend(zfs_emu.pool, "zvol")
    b.init_host()
    return b


def import_image(b):
    return b.import_image(IMG, io.BytesIO(DATA), len(DATA), SHA)


def test_init_creates_images_and_volumes_once(zfs_emu, file_backend):
    assert changes(zfs_emu) == [
        ["create", "tank/images"],
        ["create", "tank/volumes"],
    ]
    n = len(zfs_emu.calls)
    file_backend.init_host()
    assert changes(zfs_emu, n) == []


def test_init_needs_the_pool(zfs_emu):
    with pytest.raises(errors.StorageError, match="nopool"):
        ZFSBackend("nopool").init_host()


def test_file_mode_blank_volume(zfs_emu, file_backend):
    n = len(zfs_emu.calls)
    v = file_backend.create_volume(VOL, 2 * GiB)
    assert changes(zfs_emu, n) == [
        [
            "create",
            "-o",
            "arame:size=2147483648",
            "-o",
            "arame:origin=none",
            "tank/volumes/vol-aaaa0001",
        ],
        ["set", "arame:ready=yes", "tank/volumes/vol-aaaa0001"],
    ]
    assert v.path == os.path.join(
        zfs_emu.mountpoint("tank/volumes/" + VOL), "disk.raw"
    )
    st = os.stat(v.path)
    assert st.st_size == 2 * GiB and st.st_blocks == 0


def test_file_mode_image_then_clone_grown_to_the_volume_size(
    zfs_emu, file_backend
):
    n = len(zfs_emu.calls)
    import_image(file_backend)
    assert changes(zfs_emu, n) == [
        [
            "create",
            "-o",
            "arame:size=8000",
            "-o",
            f"arame:sha256={SHA}",
            "tank/images/img-aaaa0001",
        ],
        ["set", "readonly=on", "tank/images/img-aaaa0001"],
        ["snapshot", "tank/images/img-aaaa0001@base"],
    ]
    n = len(zfs_emu.calls)
    v = file_backend.create_volume(VOL, GiB, image_id=IMG)
    assert changes(zfs_emu, n) == [
        [
            "clone",
            "-o",
            "arame:size=1073741824",
            "-o",
            "arame:origin=" + IMG,
            "tank/images/img-aaaa0001@base",
            "tank/volumes/vol-aaaa0001",
        ],
        ["set", "arame:ready=yes", "tank/volumes/vol-aaaa0001"],
    ]
    with open(v.path, "rb") as f:
        assert f.read(len(DATA)) == DATA
    assert os.path.getsize(v.path) == GiB


def test_zvol_mode_blank_volume(zfs_emu, zvol_backend, tmp_path):
    n = len(zfs_emu.calls)
    v = zvol_backend.create_volume(VOL, 2 * GiB)
    assert changes(zfs_emu, n) == [
        [
            "create",
            "-s",
            "-V",
            "2147483648",
            "-o",
            "arame:size=2147483648",
            "-o",
            "arame:origin=none",
            "tank/volumes/vol-aaaa0001",
        ],
        ["set", "arame:ready=yes", "tank/volumes/vol-aaaa0001"],
    ]
    assert v.path == f"{tmp_path}/dev/tank/volumes/{VOL}"


def test_zvol_mode_image_and_clone(zfs_emu, zvol_backend, tmp_path):
    # The device node the kernel would make for the image's zvol.
    dev = tmp_path / "dev" / "tank" / "images" / IMG
    dev.parent.mkdir(parents=True)
    dev.write_bytes(bytes(MiB))
    n = len(zfs_emu.calls)
    import_image(zvol_backend)
    assert changes(zfs_emu, n) == [
        # volsize rounded up to a MiB, a multiple of any volblocksize
        [
            "create",
            "-s",
            "-V",
            str(MiB),
            "-o",
            "arame:size=8000",
            "-o",
            f"arame:sha256={SHA}",
            "tank/images/img-aaaa0001",
        ],
        ["set", "readonly=on", "tank/images/img-aaaa0001"],
        ["snapshot", "tank/images/img-aaaa0001@base"],
    ]
    assert dev.read_bytes()[: len(DATA)] == DATA
    n = len(zfs_emu.calls)
    zvol_backend.create_volume(VOL, GiB, image_id=IMG)
    assert changes(zfs_emu, n) == [
        [
            "clone",
            "-o",
            "arame:size=1073741824",
            "-o",
            "arame:origin=" + IMG,
            "tank/images/img-aaaa0001@base",
            "tank/volumes/vol-aaaa0001",
        ],
        ["set", "volsize=1073741824", "tank/volumes/vol-aaaa0001"],
        ["set", "arame:ready=yes", "tank/volumes/vol-aaaa0001"],
    ]


def test_a_half_made_volume_is_made_again(zfs_emu, file_backend):
    file_backend.create_volume(VOL, GiB)
    # As if the agent died before the last step.
    del zfs_emu.ds["tank/volumes/" + VOL].props["arame:ready"]
    assert file_backend.list_resources()["volumes"][0]["ready"] is False
    with pytest.raises(errors.VolumeNotFound):
        file_backend.get_volume(VOL)
    n = len(zfs_emu.calls)
    file_backend.create_volume(VOL, GiB)
    assert [c[0] for c in changes(zfs_emu, n)] == [
        "unmount",
        "destroy",
        "create",
        "set",
    ]
    assert file_backend.get_volume(VOL).size_bytes == GiB


def test_a_half_imported_image_is_imported_again(zfs_emu, file_backend):
    zfs_emu.run(["zfs", "create", "tank/images/" + IMG])  # no @base
    assert file_backend.list_resources()["images"] == [
        {"id": IMG, "size_bytes": 0, "ready": False}
    ]
    with pytest.raises(errors.ImageNotFound):
        file_backend.create_volume(VOL, GiB, image_id=IMG)
    n = len(zfs_emu.calls)
    import_image(file_backend)
    assert changes(zfs_emu, n)[:2] == [
        ["unmount", "tank/images/" + IMG],
        ["destroy", "-r", "tank/images/" + IMG],
    ]
    assert file_backend.list_resources()["images"][0]["ready"] is True


def test_bad_bytes_destroy_the_image_dataset(zfs_emu, file_backend):
    with pytest.raises(errors.ImageDataInvalid):
        file_backend.import_image(IMG, io.BytesIO(DATA[:-1]), len(DATA), SHA)
    assert "tank/images/" + IMG not in zfs_emu.ds


def test_busy_dataset_is_destroyed_on_retry(zfs_emu, file_backend):
    file_backend.create_volume(VOL, GiB)
    zfs_emu.busy_once.add("tank/volumes/" + VOL)
    file_backend.delete_volume(VOL)
    name = "tank/volumes/" + VOL
    n = next(i for i, c in enumerate(changes(zfs_emu)) if c[0] == "unmount")
    # Busy: mounted back, then tried again.
    assert changes(zfs_emu)[n:] == [
        ["unmount", name],
        ["destroy", "-r", name],
        ["mount", name],
        ["unmount", name],
        ["destroy", "-r", name],
    ]
    assert "tank/volumes/" + VOL not in zfs_emu.ds


def test_deleting_an_image_promotes_a_clone_and_cleans_up(
    zfs_emu, file_backend
):
    import_image(file_backend)
    for v in (VOL, VOL2, VOL3):
        file_backend.create_volume(v, GiB, image_id=IMG)
    n = len(zfs_emu.calls)
    file_backend.delete_image(IMG)
    assert changes(zfs_emu, n) == [
        ["promote", "tank/volumes/" + VOL],
        ["unmount", "tank/images/" + IMG],
        ["destroy", "-r", "tank/images/" + IMG],
    ]
    # The base moved into the first volume; the others now clone it there.
    assert (
        zfs_emu.ds["tank/volumes/" + VOL2].origin == f"tank/volumes/{VOL}@base"
    )
    # Deleting the volume that holds the base hands it on again.
    n = len(zfs_emu.calls)
    file_backend.delete_volume(VOL)
    assert changes(zfs_emu, n) == [
        ["promote", "tank/volumes/" + VOL2],
        ["unmount", "tank/volumes/" + VOL],
        ["destroy", "-r", "tank/volumes/" + VOL],
    ]
    file_backend.delete_volume(VOL3)
    # The last clone gone, the hidden base goes too.
    n = len(zfs_emu.calls)
    file_backend.delete_volume(VOL2)
    assert changes(zfs_emu, n) == [
        ["unmount", "tank/volumes/" + VOL2],
        ["destroy", "-r", "tank/volumes/" + VOL2],
    ]
    assert zfs_emu.names() == ["tank", "tank/images", "tank/volumes"]


def test_an_image_with_one_volume_leaves_no_base_behind(zfs_emu, file_backend):
    import_image(file_backend)
    file_backend.create_volume(VOL, GiB, image_id=IMG)
    n = len(zfs_emu.calls)
    file_backend.delete_image(IMG)
    # Nothing else clones the base once the image is gone: it goes too.
    assert changes(zfs_emu, n) == [
        ["promote", "tank/volumes/" + VOL],
        ["unmount", "tank/images/" + IMG],
        ["destroy", "-r", "tank/images/" + IMG],
        ["destroy", f"tank/volumes/{VOL}@base"],
    ]
    assert zfs_emu.names() == [
        "tank",
        "tank/images",
        "tank/volumes",
        "tank/volumes/" + VOL,
    ]


def test_the_hidden_base_is_not_a_snapshot_of_the_volume(
    zfs_emu, file_backend
):
    import_image(file_backend)
    file_backend.create_volume(VOL, GiB, image_id=IMG)
    file_backend.create_volume(VOL2, GiB, image_id=IMG)
    file_backend.delete_image(IMG)
    assert file_backend.list_resources()["snapshots"] == []


def test_zvol_mode_destroys_without_unmounting(zfs_emu, zvol_backend):
    zvol_backend.create_volume(VOL, GiB)
    n = len(zfs_emu.calls)
    zvol_backend.delete_volume(VOL)
    assert changes(zfs_emu, n) == [["destroy", "-r", "tank/volumes/" + VOL]]


def test_an_unmounted_dataset_is_never_written(
    zfs_emu, file_backend, monkeypatch
):
    real_get = zfs_emu._get

    def unmounted(name, prop):
        return "no" if prop == "mounted" else real_get(name, prop)

    monkeypatch.setattr(zfs_emu, "_get", unmounted)
    with pytest.raises(errors.StorageError, match="not mounted"):
        file_backend.create_volume(VOL, GiB)


def test_listing_ignores_datasets_that_are_not_ours(zfs_emu, file_backend):
    zfs_emu.run(["zfs", "create", "tank/volumes/scratch"])
    zfs_emu.run(["zfs", "create", "tank/images/other"])
    file_backend.create_volume(VOL, GiB)
    zfs_emu.run(["zfs", "snapshot", f"tank/volumes/{VOL}@manual"])
    res = file_backend.list_resources()
    assert [v["id"] for v in res["volumes"]] == [VOL]
    assert res["images"] == [] and res["snapshots"] == []
