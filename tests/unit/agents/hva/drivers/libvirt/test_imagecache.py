import hashlib
import io
import os
import tarfile

import pytest

from arame.agents.hva.drivers.libvirt import imagecache

IMG = "img-abcdefgh"


def put(store, image_id, data: bytes):
    os.makedirs(store / image_id, exist_ok=True)
    (store / image_id / "data").write_bytes(data)
    return {
        "id": image_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_bytes": len(data),
    }


def kernel_tar(members: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def cache(tmp_path):
    store = tmp_path / "store"
    return store, imagecache.ImageCache(
        str(tmp_path / "_base"), imagecache.LocalStore(str(store))
    )


def test_raw_image_is_fetched_once_and_checked(cache):
    store, c = cache
    rec = put(store, IMG, b"x" * 4096) | {"format": "raw"}
    got = c.fetch(rec)
    assert open(got["disk"], "rb").read() == b"x" * 4096
    os.unlink(store / IMG / "data")  # cached: the store isn't read again
    assert c.fetch(rec) == got
    assert c.images() == {IMG}


def test_kernel_image_unpacks_only_vmlinuz_and_initrd(cache):
    store, c = cache
    data = kernel_tar(
        {"./vmlinuz": b"K", "sub/initrd.img": b"I", "../../etc/evil": b"E"}
    )
    got = c.fetch(put(store, IMG, data) | {"format": "kernel"})
    assert open(got["kernel"], "rb").read() == b"K"
    assert open(got["initrd"], "rb").read() == b"I"
    assert sorted(os.listdir(os.path.dirname(got["kernel"]))) == [
        "initrd",
        "vmlinuz",
    ]


def test_checksum_mismatch_leaves_nothing_cached(cache):
    store, c = cache
    rec = put(store, IMG, b"abc") | {"format": "raw", "sha256": "0" * 64}
    with pytest.raises(imagecache.ImageUnavailable, match="sha256"):
        c.fetch(rec)
    assert c.images() == set()
    assert os.listdir(c.base_dir) == []


def test_missing_and_malformed_images(cache):
    store, c = cache
    with pytest.raises(imagecache.ImageUnavailable, match="not in the image"):
        c.fetch({"id": IMG, "format": "raw"})
    with pytest.raises(ValueError):
        c.fetch({"id": "../etc", "format": "raw"})
    rec = put(store, IMG, kernel_tar({"vmlinuz": b"K"})) | {"format": "kernel"}
    with pytest.raises(imagecache.ImageUnavailable, match="initrd"):
        c.fetch(rec)
