"""Images cached on the hypervisor, shared by every instance made from them.

`_base/<image id>/` holds `disk` (a raw or qcow2 image: instances get a
qcow2 overlay over it) or `vmlinuz` + `initrd` (a `kernel` image, booted
directly). An entry appears whole or not at all: it is built in a temporary
directory and renamed into place, under a lock per image, after its sha256
was checked against the controller's record.

Until a storage node serves images, they come from a local store directory
(`<store>/<image id>/data`, what `arame-manage seed` installs).

A deleted image's entry that guests still use is marked (`.deleted` in it):
no new guest gets it, and image_removal.py removes it with its last guest.
"""

import contextlib
import hashlib
import os
import secrets
import shutil
import tarfile
import tempfile

from oslo_concurrency import lockutils

from arame.common import ids

KERNEL_MEMBERS = {
    "vmlinuz": "vmlinuz",
    "initrd": "initrd",
    "initrd.img": "initrd",
}


# In an entry: its image was deleted while guests still used it.
DELETED = ".deleted"


class ImageUnavailable(Exception):
    pass


class LocalStore:
    def __init__(self, path: str):
        self.path = path

    @contextlib.contextmanager
    def open(self, image_id: str):
        try:
            with open(os.path.join(self.path, image_id, "data"), "rb") as f:
                yield f
        except FileNotFoundError:
            raise ImageUnavailable(
                f"image {image_id} is not in the image store {self.path}"
            ) from None

    def remove(self, image_id: str) -> bool:
        """Drop the store's copy; False if it had none."""
        if not ids.is_valid("image", image_id):
            raise ValueError(f"not an image id: {image_id!r}")
        path = os.path.join(self.path, image_id)
        if not os.path.isdir(path):
            return False
        shutil.rmtree(path)
        return True


class ImageCache:
    def __init__(self, base_dir: str, source: LocalStore):
        self.base_dir = base_dir
        self.source = source

    def entry(self, image_id: str) -> str:
        if not ids.is_valid("image", image_id):
            raise ValueError(f"not an image id: {image_id!r}")
        return os.path.join(self.base_dir, image_id)

    def fetch(self, image: dict) -> dict:
        """{"disk": path} or {"kernel": path, "initrd": path}, cached."""
        path = self.entry(image["id"])
        fmt = image.get("format")
        if fmt not in ("raw", "qcow2", "kernel"):
            raise ImageUnavailable(f"image {image['id']} has format {fmt!r}")
        with self.lock(image["id"]):
            if self.is_deleted(image["id"]):
                raise ImageUnavailable(f"image {image['id']} was deleted")
            if not os.path.isdir(path):
                self._download(image, path)
        if fmt == "kernel":
            return {
                "kernel": os.path.join(path, "vmlinuz"),
                "initrd": os.path.join(path, "initrd"),
            }
        return {"disk": os.path.join(path, "disk"), "format": fmt}

    def lock(self, image_id: str):
        """Held while an entry is made or removed."""
        return lockutils.lock(f"hva-image-{image_id}")

    def is_deleted(self, image_id: str) -> bool:
        return os.path.exists(os.path.join(self.entry(image_id), DELETED))

    def mark_deleted(self, image_id: str) -> None:
        with open(os.path.join(self.entry(image_id), DELETED), "w"):
            pass

    def _download(self, image: dict, path: str) -> None:
        os.makedirs(self.base_dir, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{image['id']}-", dir=self.base_dir)
        try:
            data = os.path.join(tmp, "data")
            digest = hashlib.sha256()
            size = 0
            with self.source.open(image["id"]) as src, open(data, "wb") as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
            want = image.get("sha256")
            if want and digest.hexdigest() != want:
                raise ImageUnavailable(
                    f"image {image['id']}: sha256 {digest.hexdigest()} does "
                    f"not match the record's {want}"
                )
            if image.get("size_bytes") not in (None, size):
                raise ImageUnavailable(
                    f"image {image['id']}: {size} bytes, the record says "
                    f"{image['size_bytes']}"
                )
            if image["format"] == "kernel":
                _unpack_kernel(data, tmp)
                os.unlink(data)
            else:
                os.rename(data, os.path.join(tmp, "disk"))
            # Readable by the emulator's user (libvirt runs qemu unprivileged).
            os.chmod(tmp, 0o755)
            for name in os.listdir(tmp):
                os.chmod(os.path.join(tmp, name), 0o644)
            os.rename(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def images(self) -> set[str]:
        if not os.path.isdir(self.base_dir):
            return set()
        return {
            n for n in os.listdir(self.base_dir) if ids.is_valid("image", n)
        }

    def remove(self, image_id: str) -> None:
        # Renamed first: an entry is whole or gone even if the agent dies
        # mid-removal (what is left is a leftover download to its start).
        path = self.entry(image_id)
        doomed = os.path.join(
            self.base_dir, f".{image_id}-removing{secrets.token_hex(4)}"
        )
        try:
            os.rename(path, doomed)
        except FileNotFoundError:
            return
        shutil.rmtree(doomed, ignore_errors=True)

    def leftover_downloads(self) -> list[str]:
        """Temporary directories of downloads and removals (`.<image
        id>-...`): at start, where none is running, what a killed agent
        left."""
        if not os.path.isdir(self.base_dir):
            return []
        return sorted(
            os.path.join(self.base_dir, n)
            for n in os.listdir(self.base_dir)
            if n.startswith(".")
            and ids.is_valid("image", n[1:].rsplit("-", 1)[0])
        )


def _unpack_kernel(tar_path: str, into: str) -> None:
    """Take vmlinuz and initrd out of the tar, nothing else, by name: a
    member's path never decides where bytes land."""
    found = set()
    try:
        with tarfile.open(tar_path) as tf:
            for member in tf.getmembers():
                name = KERNEL_MEMBERS.get(os.path.basename(member.name))
                if name is None or not member.isfile() or name in found:
                    continue
                src = tf.extractfile(member)
                with open(os.path.join(into, name), "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                found.add(name)
    except tarfile.TarError as e:
        raise ImageUnavailable(f"kernel image is not a valid tar: {e}") from e
    if found != {"vmlinuz", "initrd"}:
        raise ImageUnavailable(
            "a kernel image must hold vmlinuz and initrd; "
            f"found {sorted(found) or 'neither'}"
        )
