"""A deleted image leaves the hypervisor's cache and store: at once when no
guest uses it, with its last guest otherwise. The overlays are real qcow2
files (qemu-img), as the driver makes them."""

import os
import subprocess

import pytest

from arame.agents.hva.drivers.libvirt import image_removal, imagecache
from tests.unit.agents.hva.drivers.libvirt.test_imagecache import (
    kernel_tar,
    put,
)

IMG, OTHER = "img-abcdefgh", "img-otherone"
GUEST, GUEST2 = "i-guest001", "i-guest002"


class Lab:
    def __init__(self, tmp_path):
        self.store = tmp_path / "store"
        self.instances = tmp_path / "instances"
        self.cache = imagecache.ImageCache(
            str(self.instances / "_base"),
            imagecache.LocalStore(str(self.store)),
        )
        self.domains: dict[str, str] = {}
        self.removal = image_removal.ImageRemoval(
            self.cache,
            self.cache.source,
            str(self.instances),
            self.domains.get,
        )

    def cached(self, image_id=IMG, fmt="raw", data=b"x" * 65536):
        rec = put(self.store, image_id, data) | {"format": fmt}
        return self.cache.fetch(rec), rec

    def overlay(self, iid, backing, fmt="raw"):
        """A guest's root disk as storage.root_disk makes it."""
        d = self.instances / iid
        d.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b"]
            + [backing, str(d / "disk"), "1M"],
            check=True,
        )

    def entry(self, image_id=IMG):
        return self.cache.entry(image_id)


@pytest.fixture
def lab(tmp_path):
    return Lab(tmp_path)


def test_backing_file_is_read_from_the_qcow2_header(lab, tmp_path):
    got, _ = lab.cached()
    lab.overlay(GUEST, got["disk"])
    disk = str(lab.instances / GUEST / "disk")
    assert image_removal.backing_file(disk) == got["disk"]
    # Not qcow2, missing, or qcow2 with no backing file: none.
    assert image_removal.backing_file(got["disk"]) is None
    assert image_removal.backing_file(str(tmp_path / "nothing")) is None
    plain = tmp_path / "plain.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(plain), "1M"],
        check=True,
    )
    assert image_removal.backing_file(str(plain)) is None


def test_an_unused_image_goes_from_cache_and_store_and_again_is_absent(lab):
    lab.cached()
    lab.cached(OTHER)
    assert lab.removal.remove(IMG) == {
        "image_id": IMG,
        "cache": "removed",
        "in_use_by": [],
        "store": "removed",
    }
    assert not os.path.exists(lab.entry())
    assert not os.path.exists(lab.store / IMG)
    assert lab.removal.remove(IMG) == {
        "image_id": IMG,
        "cache": "absent",
        "in_use_by": [],
        "store": "absent",
    }
    # The other image is untouched.
    assert lab.cache.images() == {OTHER}
    assert os.path.exists(lab.store / OTHER / "data")


def test_an_image_in_use_is_kept_marked_and_goes_with_its_last_guest(lab):
    got, rec = lab.cached()
    lab.overlay(GUEST, got["disk"])
    lab.overlay(GUEST2, got["disk"])
    answer = lab.removal.remove(IMG)
    assert answer["cache"] == "kept"
    assert answer["in_use_by"] == [GUEST, GUEST2]
    assert answer["store"] == "removed"
    assert os.path.exists(got["disk"])  # the guests' disks still read it
    # No new guest gets a deleted image, even from a store that has it.
    put(lab.store, IMG, b"x" * 65536)
    with pytest.raises(imagecache.ImageUnavailable, match="deleted"):
        lab.cache.fetch(rec)
    # The same message again: the same answer.
    assert lab.removal.remove(IMG)["in_use_by"] == [GUEST, GUEST2]

    (lab.instances / GUEST / "disk").unlink()
    assert lab.removal.prune() == []  # GUEST2 still uses it
    os.rmdir(lab.instances / GUEST)
    (lab.instances / GUEST2 / "disk").unlink()
    assert lab.removal.prune() == [IMG]
    assert not os.path.exists(lab.entry())


def test_a_kernel_image_is_in_use_while_a_domain_names_it(lab):
    got, _ = lab.cached(
        fmt="kernel", data=kernel_tar({"vmlinuz": b"K", "initrd": b"I"})
    )
    (lab.instances / GUEST).mkdir(parents=True)
    lab.domains[GUEST] = f"<domain><os><kernel>{got['kernel']}</kernel></os>"
    assert lab.removal.remove(IMG)["in_use_by"] == [GUEST]
    del lab.domains[GUEST]
    assert lab.removal.prune() == [IMG]


def test_an_entry_of_a_live_image_is_never_pruned(lab):
    got, _ = lab.cached()
    assert lab.removal.prune(at_start=True) == []
    assert os.path.exists(got["disk"])


def test_at_start_a_download_left_half_done_is_removed(lab):
    lab.cached()
    base = lab.cache.base_dir
    half = os.path.join(base, f".{OTHER}-k3x_9q2z")
    os.makedirs(half)
    open(os.path.join(half, "data"), "wb").close()
    unrelated = os.path.join(base, ".not-an-image")
    os.makedirs(unrelated)
    lab.removal.prune()
    assert os.path.exists(half)  # a download may be running now
    lab.removal.prune(at_start=True)
    assert not os.path.exists(half)
    assert os.path.exists(unrelated) and os.path.exists(lab.entry())


def test_a_malformed_id_reaches_no_path(lab):
    with pytest.raises(ValueError):
        lab.removal.remove("../etc")
    with pytest.raises(ValueError):
        lab.cache.source.remove("img-../x")


def test_a_removal_cut_short_leaves_no_entry_only_a_leftover(lab, monkeypatch):
    lab.cached()

    def killed(path, **kw):
        raise KeyboardInterrupt  # the agent dies as it deletes the files

    monkeypatch.setattr(imagecache.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        lab.removal.remove(IMG)
    monkeypatch.undo()
    assert lab.cache.images() == set()  # never half an entry
    assert len(lab.cache.leftover_downloads()) == 1
    lab.removal.prune(at_start=True)
    assert os.listdir(lab.cache.base_dir) == []
