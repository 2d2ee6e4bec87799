"""A local root disk (real qemu-img): an overlay over the cached image,
of the size the instance asks (its root_gb, else the flavor's disk), and
never smaller than the image."""

import json
import shutil
import subprocess

import pytest

from arame.agents.hva.drivers.libvirt import storage

GiB = 1024**3

pytestmark = pytest.mark.skipif(
    shutil.which("qemu-img") is None, reason="needs qemu-img"
)


def _info(path):
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", "-U", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


@pytest.fixture
def base(tmp_path):
    path = tmp_path / "base.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(path), "2G"],
        check=True,
    )
    return {"disk": str(path), "format": "qcow2"}


def test_a_sized_root_is_an_overlay_of_that_size(tmp_path, base):
    idir = tmp_path / "i-abcdefgh"
    idir.mkdir()
    disk = storage.root_disk(str(idir), base, 15)
    info = _info(disk.path)
    assert info["virtual-size"] == 15 * GiB
    assert info["format"] == "qcow2"
    assert info["backing-filename"] == base["disk"]
    # Sparse: the growth costs nothing until the guest writes.
    assert (idir / "disk").stat().st_blocks * 512 < 16 * 1024 * 1024


def test_the_root_is_never_smaller_than_its_image(tmp_path, base):
    idir = tmp_path / "i-abcdefgh"
    idir.mkdir()
    disk = storage.root_disk(str(idir), base, 1)
    assert _info(disk.path)["virtual-size"] == 2 * GiB
