"""A deleted image leaves this hypervisor: its cache entry (`_base/<id>/`)
and its copy in the local image store.

An entry a guest still uses cannot go (qemu would lose the backing file of
the guest's root overlay, or the kernel it boots): it is marked deleted
instead, so no new guest gets it, and `prune()` removes it once no guest
uses it. The driver prunes after every destroy and at start, so a mark
never outlives its last guest, and a download a killed agent left half
done (a hidden temporary directory) is removed at the next start.

Removing is idempotent: an image with no entry and no store copy answers
`absent` for both.
"""

import os
import shutil
import struct
from collections.abc import Callable

import libvirt
from oslo_log import log

from arame.agents.hva.drivers.libvirt.imagecache import ImageCache, LocalStore
from arame.common import ids

LOG = log.getLogger(__name__)

QCOW2_MAGIC = b"QFI\xfb"
# A backing file name longer than this is no name qemu-img wrote.
MAX_BACKING_NAME = 4096


def backing_file(path: str) -> str | None:
    """The absolute path of a qcow2 file's backing file (read from its
    header: no process per guest), None for another format or none."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
            if len(head) < 20 or head[:4] != QCOW2_MAGIC:
                return None
            offset, size = struct.unpack(">QI", head[8:20])
            if not offset or not 0 < size <= MAX_BACKING_NAME:
                return None
            f.seek(offset)
            name = os.fsdecode(f.read(size))
    except (FileNotFoundError, NotADirectoryError):
        return None
    return os.path.normpath(os.path.join(os.path.dirname(path), name))


def domain_xml(conn: Callable[[], libvirt.virConnect]):
    """`domain_xml` for ImageRemoval over a libvirt connection."""

    def xml(instance_id: str) -> str | None:
        try:
            return conn().lookupByName(instance_id).XMLDesc()
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise

    return xml


class ImageRemoval:
    """`domain_xml(instance_id)`: the guest's domain XML, None when it has
    no domain."""

    def __init__(
        self,
        cache: ImageCache,
        store: LocalStore,
        instances_path: str,
        domain_xml: Callable[[str], str | None],
    ):
        self.cache = cache
        self.store = store
        self.instances_path = instances_path
        self.domain_xml = domain_xml

    def _guests(self) -> list[str]:
        if not os.path.isdir(self.instances_path):
            return []
        return sorted(
            n
            for n in os.listdir(self.instances_path)
            if ids.is_valid("instance", n)
        )

    def users(self, image_id: str) -> list[str]:
        """Guests whose root overlay is backed by the entry, or whose
        domain names a file in it (a kernel image's vmlinuz and initrd)."""
        entry = self.cache.entry(image_id) + os.sep
        out = []
        for iid in self._guests():
            disk = os.path.join(self.instances_path, iid, "disk")
            backing = backing_file(disk)
            if backing is not None and backing.startswith(entry):
                out.append(iid)
                continue
            xml = self.domain_xml(iid)
            if xml is not None and entry in xml:
                out.append(iid)
        return out

    def remove(self, image_id: str) -> dict:
        """{"image_id", "cache": "removed" | "absent" | "kept", "in_use_by":
        [instance ids] (when kept), "store": "removed" | "absent"}."""
        entry = self.cache.entry(image_id)  # checks the id
        answer = {"image_id": image_id, "in_use_by": []}
        with self.cache.lock(image_id):
            if not os.path.isdir(entry):
                answer["cache"] = "absent"
            else:
                users = self.users(image_id)
                if users:
                    self.cache.mark_deleted(image_id)
                    answer.update(cache="kept", in_use_by=users)
                    LOG.warning(
                        "image %s is deleted but %s still use(s) its cache "
                        "entry: removed with the last of them",
                        image_id,
                        ", ".join(users),
                    )
                else:
                    self.cache.remove(image_id)
                    answer["cache"] = "removed"
            answer["store"] = (
                "removed" if self.store.remove(image_id) else "absent"
            )
        LOG.info(
            "image %s removed: cache %s, store %s",
            image_id,
            answer["cache"],
            answer["store"],
        )
        return answer

    def prune(self, at_start: bool = False) -> list[str]:
        """Remove the marked entries no guest uses any more (and, at start,
        downloads a killed agent left half done); the image ids removed."""
        removed = []
        if at_start:
            for path in self.cache.leftover_downloads():
                LOG.info("removing a download left half done: %s", path)
                shutil.rmtree(path, ignore_errors=True)
        for image_id in sorted(self.cache.images()):
            if not self.cache.is_deleted(image_id):
                continue
            with self.cache.lock(image_id):
                if self.cache.is_deleted(image_id) and not self.users(
                    image_id
                ):
                    self.cache.remove(image_id)
                    removed.append(image_id)
        if removed:
            LOG.info("deleted images' cache entries removed: %s", removed)
        return removed

    def prune_quietly(self, at_start: bool = False) -> None:
        """prune() where a failure must not fail the caller (a destroy, the
        agent's start): the next prune tries again."""
        try:
            self.prune(at_start)
        except Exception:
            LOG.exception("could not prune the image cache")
