"""Where a volume's bytes live inside its dataset: the one thing that
differs between [sta] volume_mode file and zvol.

- file: the dataset is a filesystem holding one sparse `disk.raw` the size
  of the volume. zfs-fuse has no zvols, so this is the mode proven here.
- zvol: the dataset is a sparse ZFS volume, served as /dev/zvol/<name>
  (OpenZFS in the kernel; its commands are unit-tested only).

A clone of an image or snapshot starts with the origin's size; both
layouts grow it to the volume's size (never shrink) without copying.
"""

import os

import tenacity

from arame.agents.sta.backends.zfs_cli import ZFSCommands
from arame.agents.sta.errors import StorageError

MiB = 1024 * 1024


class FileLayout:
    mode = "file"
    FILE = "disk.raw"

    def create_volume(
        self, zfs: ZFSCommands, name: str, size: int, props: dict
    ) -> str:
        zfs.create(name, props)
        path = self.path(zfs, name)
        _grow_file(path, size)
        return path

    def clone_volume(
        self,
        zfs: ZFSCommands,
        snapshot: str,
        name: str,
        size: int,
        source_size: int,
        props: dict,
    ) -> str:
        zfs.clone(snapshot, name, props)
        path = self.path(zfs, name)
        if not os.path.exists(path):
            raise StorageError(f"{snapshot} holds no {self.FILE}")
        _grow_file(path, size)
        return path

    def create_image(
        self, zfs: ZFSCommands, name: str, size: int, props: dict
    ) -> str:
        zfs.create(name, props)
        path = self.path(zfs, name)
        # Created empty: copy_verified leaves holes for runs of zeros.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        return path

    def open_image(self, path: str):
        return open(path, "r+b")

    def path(self, zfs: ZFSCommands, name: str) -> str:
        p = zfs.get_one(name, ["mountpoint", "mounted"])
        if p is None:
            raise StorageError(f"{name} vanished")
        # Writing into an unmounted dataset's directory would put the
        # volume on the root filesystem.
        if p.get("mounted") != "yes" or not p.get("mountpoint"):
            raise StorageError(f"{name} is not mounted")
        return os.path.join(p["mountpoint"], self.FILE)


class ZvolLayout:
    mode = "zvol"
    DEV = "/dev/zvol"

    def create_volume(
        self, zfs: ZFSCommands, name: str, size: int, props: dict
    ) -> str:
        zfs.create(name, props, volsize=size, sparse=True)
        return self.path(zfs, name)

    def clone_volume(
        self,
        zfs: ZFSCommands,
        snapshot: str,
        name: str,
        size: int,
        source_size: int,
        props: dict,
    ) -> str:
        zfs.clone(snapshot, name, props)
        if size != _round_up(source_size, MiB):
            zfs.set(name, "volsize", str(size))
        return self.path(zfs, name)

    def create_image(
        self, zfs: ZFSCommands, name: str, size: int, props: dict
    ) -> str:
        # volsize must be a multiple of volblocksize (a power of two up to
        # 128 KiB, or 1 MiB on recent OpenZFS); the tail reads as zeros.
        zfs.create(name, props, volsize=_round_up(size, MiB), sparse=True)
        return self.path(zfs, name)

    # udev makes the device node a moment after `zfs create -V`.
    @tenacity.retry(
        retry=tenacity.retry_if_exception_type(FileNotFoundError),
        stop=tenacity.stop_after_delay(10),
        wait=tenacity.wait_fixed(0.1),
        reraise=True,
    )
    def open_image(self, path: str):
        return open(path, "r+b")

    def path(self, zfs: ZFSCommands, name: str) -> str:
        return f"{self.DEV}/{name}"


LAYOUTS = {cls.mode: cls for cls in (FileLayout, ZvolLayout)}


def _round_up(n: int, unit: int) -> int:
    return -(-n // unit) * unit


def _grow_file(path: str, size: int) -> None:
    """Make path at least size bytes, sparse; create it if absent."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size < size:
            os.ftruncate(fd, size)
    finally:
        os.close(fd)
