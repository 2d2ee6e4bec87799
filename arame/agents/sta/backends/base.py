"""The storage backend interface: volumes, snapshots and images on one
node's pool (ZFS, or a fake in memory).

Every operation is idempotent: creating what exists with the same shape
returns it, deleting what is absent succeeds. Identifiers and sizes reach a
backend already checked (arame.agents.sta.checks).

What deleting does when something depends on what is deleted:
- an image whose base snapshot has volumes cloned from it: allowed; the
  shared bytes move to one of those volumes (ZFS promote) and stay until
  the last volume made from the image is gone;
- a volume that still has snapshots: refused (VolumeHasSnapshots), as in
  Cinder: the caller deletes the snapshots first;
- a snapshot with volumes made from it: refused (SnapshotHasDependents,
  naming the volumes), since its bytes are their base.
"""

import abc
import dataclasses
from typing import BinaryIO


@dataclasses.dataclass(frozen=True)
class Volume:
    id: str
    size_bytes: int
    #: "img-..." or "snap-..." it was made from, None for a blank volume
    origin: str | None
    #: what the iSCSI target serves: a disk.raw file or a zvol device
    path: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Image:
    id: str
    size_bytes: int
    sha256: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class StorageBackend(abc.ABC):
    #: "file" or "zvol" (what `path` of a volume is)
    volume_mode = "file"

    def init_host(self) -> None:
        """Called once when the agent starts: check the pool, create what
        the backend needs in it."""

    @abc.abstractmethod
    def capacity(self) -> dict:
        """{"pool", "size_bytes", "free_bytes", "allocated_bytes",
        "provisioned_bytes", "volume_mode"}: allocated is what the pool
        really holds, provisioned the sum of the volumes' sizes (thin)."""

    @abc.abstractmethod
    def create_volume(
        self,
        volume_id: str,
        size_bytes: int,
        *,
        image_id: str | None = None,
        snapshot_id: str | None = None,
    ) -> Volume:
        """A blank volume, or a clone of an image or a snapshot grown to
        size_bytes. A half-made volume left by a crash is made again."""

    @abc.abstractmethod
    def get_volume(self, volume_id: str) -> Volume:
        """VolumeNotFound unless the volume exists and is complete."""

    @abc.abstractmethod
    def delete_volume(self, volume_id: str) -> None: ...

    @abc.abstractmethod
    def create_snapshot(self, snapshot_id: str, volume_id: str) -> dict:
        """{"id", "volume_id"}"""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> None: ...

    @abc.abstractmethod
    def import_image(
        self, image_id: str, stream: BinaryIO, size: int, sha256: str
    ) -> Image:
        """Write the image from stream (exactly size bytes, checked against
        sha256), then freeze it as the base that volumes clone."""

    @abc.abstractmethod
    def delete_image(self, image_id: str) -> None: ...

    @abc.abstractmethod
    def list_resources(self) -> dict:
        """{"volumes": [{"id", "size_bytes", "origin", "ready"}],
        "snapshots": [{"id", "volume_id"}],
        "images": [{"id", "size_bytes", "ready"}]} — everything the pool
        holds, half-made ones included (ready False), for the reconciler."""
