"""A storage pool in memory: for unit tests, the all-in-one and scale runs.

It keeps the real backend's contract (idempotence, what is refused and
why, sizes and sha256 of imported images checked) without storing bytes.
With `[fake_sta] state_file` the pool outlives the agent, as ZFS datasets
do: loaded at start, saved after every change (arame/agents/statefile.py).
"""

import threading
from typing import BinaryIO

from arame.agents import statefile
from arame.agents.sta import ingest
from arame.agents.sta.backends import base
from arame.agents.sta.errors import (
    ImageExists,
    ImageNotFound,
    SnapshotExists,
    SnapshotHasDependents,
    SnapshotNotFound,
    VolumeExists,
    VolumeHasSnapshots,
    VolumeNotFound,
    VolumeTooSmall,
)

GiB = 1024**3


class FakeBackend(base.StorageBackend):
    def __init__(
        self,
        pool: str = "fake",
        size_bytes: int = 10240 * GiB,
        volume_mode: str = "file",
        state_file: str | None = None,
    ):
        self.pool = pool
        self.size_bytes = size_bytes
        self.volume_mode = volume_mode
        self._lock = threading.Lock()
        self._state = statefile.open_state(state_file)
        doc = self._state.load() if self._state else {}
        self.volumes: dict[str, dict] = doc.get("volumes") or {}
        # snapshot id -> volume id
        self.snapshots: dict[str, str] = doc.get("snapshots") or {}
        self.images: dict[str, base.Image] = {
            iid: base.Image(iid, i["size_bytes"], i["sha256"])
            for iid, i in (doc.get("images") or {}).items()
        }

    @classmethod
    def from_config(cls, conf):
        return cls(
            conf.sta.pool,
            conf.fake_sta.size_gb * GiB,
            conf.sta.volume_mode,
            state_file=conf.fake_sta.state_file,
        )

    def _save(self) -> None:
        """After every change, with self._lock held; the target's exports
        in the same file are its own."""
        if self._state is None:
            return
        pool = {
            "volumes": self.volumes,
            "snapshots": self.snapshots,
            "images": {
                i.id: {"size_bytes": i.size_bytes, "sha256": i.sha256}
                for i in self.images.values()
            },
        }
        self._state.update(lambda doc: doc.update(pool))

    def _path(self, volume_id):
        if self.volume_mode == "zvol":
            return f"/dev/zvol/{self.pool}/volumes/{volume_id}"
        return f"/fake/{self.pool}/volumes/{volume_id}/disk.raw"

    def capacity(self) -> dict:
        with self._lock:
            allocated = sum(i.size_bytes for i in self.images.values())
            provisioned = sum(v["size_bytes"] for v in self.volumes.values())
        return {
            "pool": self.pool,
            "size_bytes": self.size_bytes,
            "free_bytes": self.size_bytes - allocated,
            "allocated_bytes": allocated,
            "provisioned_bytes": provisioned,
            "volume_mode": self.volume_mode,
        }

    def create_volume(
        self, volume_id, size_bytes, *, image_id=None, snapshot_id=None
    ) -> base.Volume:
        origin = image_id or snapshot_id
        with self._lock:
            v = self.volumes.get(volume_id)
            if v is not None:
                if (v["size_bytes"], v["origin"]) != (size_bytes, origin):
                    raise VolumeExists(
                        f"{volume_id} exists", volume_id=volume_id
                    )
                return self._volume(volume_id)
            if image_id:
                if image_id not in self.images:
                    raise ImageNotFound(
                        f"no image {image_id}", image_id=image_id
                    )
                source_size = self.images[image_id].size_bytes
            elif snapshot_id:
                if snapshot_id not in self.snapshots:
                    raise SnapshotNotFound(
                        f"no snapshot {snapshot_id}", snapshot_id=snapshot_id
                    )
                source_size = self.volumes[self.snapshots[snapshot_id]][
                    "size_bytes"
                ]
            else:
                source_size = 0
            if source_size > size_bytes:
                raise VolumeTooSmall(
                    f"{origin} is {source_size} bytes", volume_id=volume_id
                )
            self.volumes[volume_id] = {
                "size_bytes": size_bytes,
                "origin": origin,
            }
            self._save()
            return self._volume(volume_id)

    def _volume(self, volume_id) -> base.Volume:
        v = self.volumes[volume_id]
        return base.Volume(
            volume_id, v["size_bytes"], v["origin"], self._path(volume_id)
        )

    def get_volume(self, volume_id) -> base.Volume:
        with self._lock:
            if volume_id not in self.volumes:
                raise VolumeNotFound(
                    f"no volume {volume_id}", volume_id=volume_id
                )
            return self._volume(volume_id)

    def delete_volume(self, volume_id) -> None:
        with self._lock:
            snaps = sorted(
                s for s, v in self.snapshots.items() if v == volume_id
            )
            if snaps:
                raise VolumeHasSnapshots(
                    f"{volume_id} has snapshots: {', '.join(snaps)}",
                    volume_id=volume_id,
                    snapshots=snaps,
                )
            if self.volumes.pop(volume_id, None) is not None:
                self._save()

    def create_snapshot(self, snapshot_id, volume_id) -> dict:
        with self._lock:
            owner = self.snapshots.get(snapshot_id)
            if owner is not None and owner != volume_id:
                raise SnapshotExists(
                    f"{snapshot_id} is a snapshot of another volume",
                    snapshot_id=snapshot_id,
                )
            if volume_id not in self.volumes:
                raise VolumeNotFound(
                    f"no volume {volume_id}", volume_id=volume_id
                )
            if owner is None:
                self.snapshots[snapshot_id] = volume_id
                self._save()
            return {"id": snapshot_id, "volume_id": volume_id}

    def delete_snapshot(self, snapshot_id) -> None:
        with self._lock:
            deps = sorted(
                v
                for v, d in self.volumes.items()
                if d["origin"] == snapshot_id
            )
            if deps:
                raise SnapshotHasDependents(
                    f"volumes made from {snapshot_id} still exist: "
                    f"{', '.join(deps)}",
                    snapshot_id=snapshot_id,
                    volumes=deps,
                )
            if self.snapshots.pop(snapshot_id, None) is not None:
                self._save()

    def import_image(
        self, image_id, stream: BinaryIO, size, sha256
    ) -> base.Image:
        with self._lock:
            done = self.images.get(image_id)
            if done is not None:
                if (done.size_bytes, done.sha256) != (size, sha256):
                    raise ImageExists(
                        f"{image_id} exists with other bytes",
                        image_id=image_id,
                    )
                return done
        ingest.copy_verified(stream, ingest.Discard(), size, sha256)
        with self._lock:
            image = self.images.setdefault(
                image_id, base.Image(image_id, size, sha256)
            )
            self._save()
            return image

    def delete_image(self, image_id) -> None:
        # Volumes made from it keep their bytes (the real backend promotes).
        with self._lock:
            if self.images.pop(image_id, None) is not None:
                self._save()

    def list_resources(self) -> dict:
        with self._lock:
            return {
                "volumes": [
                    {
                        "id": k,
                        "size_bytes": v["size_bytes"],
                        "origin": v["origin"],
                        "ready": True,
                    }
                    for k, v in sorted(self.volumes.items())
                ],
                "snapshots": [
                    {"id": k, "volume_id": v}
                    for k, v in sorted(self.snapshots.items())
                ],
                "images": [
                    {"id": i.id, "size_bytes": i.size_bytes, "ready": True}
                    for i in sorted(self.images.values(), key=lambda i: i.id)
                ],
            }
