"""Volumes, snapshots and images as ZFS datasets, through the zfs command.

    <pool>/images/<img-id>          the image's bytes (read-only once complete)
    <pool>/images/<img-id>@base     what volumes clone: complete iff it exists
    <pool>/volumes/<vol-id>         a volume (layouts.py: disk.raw or a zvol)
    <pool>/volumes/<vol-id>@<snap-id>  a snapshot of it

A volume made from an image or a snapshot is a `zfs clone`: constant time,
no copy. User properties record what the API knows of a dataset (ZFS's own
`origin` changes when a clone is promoted): `arame:size` (bytes),
`arame:origin` (img-/snap- id or "none"), `arame:ready` (a volume is
complete: set last, so a crash half-way leaves a volume without it, which
the next identical create throws away and makes again), `arame:sha256`.

Deleting a dataset whose snapshots other volumes were cloned from promotes
one of those clones first: the shared snapshot moves to it (as
`<vol>@base`, hidden from listings) and is destroyed with its last clone.
See backends/base.py for what is refused instead.
"""

import os
import threading
from typing import BinaryIO

from oslo_log import log

from arame.agents.sta import ingest
from arame.agents.sta.backends import base
from arame.agents.sta.backends.layouts import LAYOUTS
from arame.agents.sta.backends.zfs_cli import DatasetExists, ZFSCommands
from arame.agents.sta.errors import (
    ImageExists,
    ImageNotFound,
    SnapshotExists,
    SnapshotHasDependents,
    SnapshotNotFound,
    StorageError,
    VolumeExists,
    VolumeHasSnapshots,
    VolumeNotFound,
    VolumeTooSmall,
)
from arame.common import ids

LOG = log.getLogger(__name__)

SIZE, ORIGIN, READY, SHA = (
    "arame:size",
    "arame:origin",
    "arame:ready",
    "arame:sha256",
)
BASE = "base"


class ZFSBackend(base.StorageBackend):
    def __init__(
        self, pool: str, volume_mode: str = "file", timeout: float = 120.0
    ):
        self.pool = pool
        self.images = f"{pool}/images"
        self.volumes = f"{pool}/volumes"
        self.layout = LAYOUTS[volume_mode]()
        self.volume_mode = volume_mode
        # Images and volumes are filesystems in file mode, zvols otherwise.
        self._fs = volume_mode == "file"
        self.zfs = ZFSCommands(timeout)
        # One change to the dataset tree at a time: deletes promote other
        # datasets' clones, so per-resource locks alone would race. Image
        # bytes are copied outside it.
        self._lock = threading.RLock()

    @classmethod
    def from_config(cls, conf):
        return cls(conf.sta.pool, conf.sta.volume_mode, conf.sta.zfs_timeout)

    # -- names -------------------------------------------------------------
    def _vol(self, volume_id):
        return f"{self.volumes}/{volume_id}"

    def _img(self, image_id):
        return f"{self.images}/{image_id}"

    def _base(self, image_id):
        return f"{self._img(image_id)}@{BASE}"

    # -- host --------------------------------------------------------------
    def init_host(self) -> None:
        if self.zfs.get_one(self.pool, ["mounted"]) is None:
            raise StorageError(f"ZFS pool or dataset {self.pool} not found")
        for ds in (self.images, self.volumes):
            if self.zfs.get_one(ds, ["mounted"]) is None:
                self.zfs.create(ds)

    def capacity(self) -> dict:
        p = self.zfs.get([self.pool], ["used", "available"])[self.pool]
        used, avail = int(p["used"]), int(p["available"])
        provisioned = sum(v["size_bytes"] for v in self._volumes())
        return {
            "pool": self.pool,
            "size_bytes": used + avail,
            "free_bytes": avail,
            "allocated_bytes": used,
            "provisioned_bytes": provisioned,
            "volume_mode": self.volume_mode,
        }

    # -- volumes -----------------------------------------------------------
    def create_volume(
        self, volume_id, size_bytes, *, image_id=None, snapshot_id=None
    ) -> base.Volume:
        origin = image_id or snapshot_id
        name = self._vol(volume_id)
        with self._lock:
            done = self._made(volume_id, size_bytes, origin)
            if done is not None:
                return done
            try:
                path = self._make_volume(
                    name, size_bytes, image_id, snapshot_id
                )
            except DatasetExists:
                # Made since the look above, outside this process (an
                # operator, a second agent on the pool): the same volume,
                # complete, is the answer; half of one is not ours to undo.
                done = self._made(volume_id, size_bytes, origin, redo=False)
                if done is None:
                    raise StorageError(
                        f"{name} is being made by someone else"
                    ) from None
                return done
            self.zfs.set(name, READY, "yes")
            return base.Volume(volume_id, size_bytes, origin, path)

    def _made(
        self, volume_id, size_bytes, origin, redo=True
    ) -> base.Volume | None:
        """The volume if it is complete with this shape (VolumeExists with
        another); None if absent, or half-made (destroyed first if redo)."""
        name = self._vol(volume_id)
        p = self.zfs.get_one(name, [SIZE, ORIGIN, READY])
        if p is None:
            return None
        if p[READY] != "yes":
            if redo:
                LOG.info("%s was left half-made; making it again", name)
                self.zfs.destroy(name, filesystem=self._fs)
            return None
        if (int(p[SIZE] or 0), p[ORIGIN]) != (size_bytes, origin or "none"):
            raise VolumeExists(
                f"{volume_id} exists: {p[SIZE]} bytes from {p[ORIGIN]}",
                volume_id=volume_id,
            )
        return self._volume(volume_id, p)

    def _make_volume(self, name, size_bytes, image_id, snapshot_id) -> str:
        origin = image_id or snapshot_id
        props = {SIZE: str(size_bytes), ORIGIN: origin or "none"}
        if not origin:
            return self.layout.create_volume(self.zfs, name, size_bytes, props)
        source, source_size = (
            self._image_base(image_id)
            if image_id
            else self._snapshot_source(snapshot_id)
        )
        if source_size > size_bytes:
            raise VolumeTooSmall(
                f"{origin} is {source_size} bytes, more than the "
                f"{size_bytes} asked",
                volume_id=name.rsplit("/", 1)[-1],
            )
        return self.layout.clone_volume(
            self.zfs, source, name, size_bytes, source_size, props
        )

    def get_volume(self, volume_id) -> base.Volume:
        p = self.zfs.get_one(self._vol(volume_id), [SIZE, ORIGIN, READY])
        if p is None or p[READY] != "yes":
            raise VolumeNotFound(
                f"no volume {volume_id} on {self.pool}", volume_id=volume_id
            )
        return self._volume(volume_id, p)

    def _volume(self, volume_id, p) -> base.Volume:
        origin = None if p[ORIGIN] in (None, "none") else p[ORIGIN]
        return base.Volume(
            volume_id,
            int(p[SIZE] or 0),
            origin,
            self.layout.path(self.zfs, self._vol(volume_id)),
        )

    def delete_volume(self, volume_id) -> None:
        name = self._vol(volume_id)
        with self._lock:
            snaps = [
                s for s in self._snapshots() if s["volume_id"] == volume_id
            ]
            if snaps:
                raise VolumeHasSnapshots(
                    f"{volume_id} has snapshots: "
                    f"{', '.join(s['id'] for s in snaps)}",
                    volume_id=volume_id,
                    snapshots=[s["id"] for s in snaps],
                )
            self._destroy_with_dependents(name)

    # -- snapshots ---------------------------------------------------------
    def create_snapshot(self, snapshot_id, volume_id) -> dict:
        with self._lock:
            found = self._find_snapshot(snapshot_id)
            if found is not None:
                if found.split("@")[0] != self._vol(volume_id):
                    raise SnapshotExists(
                        f"{snapshot_id} is a snapshot of another volume",
                        snapshot_id=snapshot_id,
                    )
            else:
                self.get_volume(volume_id)
                try:
                    self.zfs.snapshot(f"{self._vol(volume_id)}@{snapshot_id}")
                except DatasetExists:
                    # Taken since the listing, outside this process: the
                    # name is this volume's, so it is the snapshot asked.
                    LOG.info("%s@%s exists already", volume_id, snapshot_id)
            return {"id": snapshot_id, "volume_id": volume_id}

    def delete_snapshot(self, snapshot_id) -> None:
        with self._lock:
            name = self._find_snapshot(snapshot_id)
            if name is None:
                return
            deps = [d for d, o in self._origins().items() if o == name]
            if deps:
                vols = sorted(d.rsplit("/", 1)[-1] for d in deps)
                raise SnapshotHasDependents(
                    f"volumes made from {snapshot_id} still exist: "
                    f"{', '.join(vols)}",
                    snapshot_id=snapshot_id,
                    volumes=vols,
                )
            self.zfs.destroy(name)

    def _find_snapshot(self, snapshot_id) -> str | None:
        for row in self.zfs.list(self.volumes, [], types="snapshot"):
            if row["name"].endswith(f"@{snapshot_id}"):
                return row["name"]
        return None

    def _snapshot_source(self, snapshot_id) -> tuple[str, int]:
        name = self._find_snapshot(snapshot_id)
        if name is None:
            raise SnapshotNotFound(
                f"no snapshot {snapshot_id} on {self.pool}",
                snapshot_id=snapshot_id,
            )
        # arame:size is inherited from the volume the snapshot was taken of.
        return name, int(self.zfs.get([name], [SIZE])[name][SIZE])

    # -- images ------------------------------------------------------------
    def import_image(
        self, image_id, stream: BinaryIO, size, sha256
    ) -> base.Image:
        name = self._img(image_id)
        with self._lock:
            done = self.zfs.get_one(self._base(image_id), [SIZE, SHA])
            if done is not None:
                if (int(done[SIZE]), done[SHA]) != (size, sha256):
                    raise ImageExists(
                        f"{image_id} exists with other bytes",
                        image_id=image_id,
                    )
                return base.Image(image_id, size, sha256)
            if self.zfs.get_one(name, [SIZE]) is not None:
                LOG.info("%s was left half-imported; starting over", name)
                self.zfs.destroy(name, recursive=True, filesystem=self._fs)
            path = self.layout.create_image(
                self.zfs, name, size, {SIZE: str(size), SHA: sha256}
            )
        try:
            with self.layout.open_image(path) as f:
                ingest.copy_verified(stream, f, size, sha256)
                os.fsync(f.fileno())
        except BaseException:
            with self._lock:
                self.zfs.destroy(name, recursive=True, filesystem=self._fs)
            raise
        with self._lock:
            self.zfs.set(name, "readonly", "on")
            self.zfs.snapshot(self._base(image_id))
        return base.Image(image_id, size, sha256)

    def _image_base(self, image_id) -> tuple[str, int]:
        snap = self._base(image_id)
        p = self.zfs.get_one(snap, [SIZE])
        if p is None:
            raise ImageNotFound(
                f"no image {image_id} on {self.pool}", image_id=image_id
            )
        return snap, int(p[SIZE])

    def delete_image(self, image_id) -> None:
        with self._lock:
            self._destroy_with_dependents(self._img(image_id))

    # -- the dataset tree --------------------------------------------------
    def _origins(self) -> dict[str, str]:
        """Every clone in the pool -> the snapshot it was cloned from."""
        return {
            r["name"]: r["origin"]
            for r in self.zfs.list(
                self.pool, ["origin"], types="filesystem,volume"
            )
            if r["origin"]
        }

    def _destroy_with_dependents(self, name: str) -> None:
        """Destroy name and its snapshots; hand snapshots that clones still
        need to one of those clones first (zfs promote)."""
        if self.zfs.get_one(name, ["type"]) is None:
            return
        while True:
            origins = self._origins()
            deps = sorted(
                d for d, o in origins.items() if o.startswith(name + "@")
            )
            if not deps:
                break
            # Each promote takes at least one snapshot away from name.
            LOG.info("%s: promoting %s, which depends on it", name, deps[0])
            self.zfs.promote(deps[0])
        origin = origins.get(name)
        self.zfs.destroy(name, recursive=True, filesystem=self._fs)
        # A base that moved into a volume is garbage once nothing is cloned
        # from it; an image's own base stays with its image.
        if (
            origin
            and origin.startswith(self.volumes + "/")
            and origin.endswith(f"@{BASE}")
            and origin not in self._origins().values()
        ):
            self.zfs.destroy(origin)

    # -- listing -----------------------------------------------------------
    def _rows(self):
        return self.zfs.list(self.pool, [SIZE, ORIGIN, READY])

    def _volumes(self, rows=None) -> list[dict]:
        out = []
        for r in rows if rows is not None else self._rows():
            parent, _, vid = r["name"].rpartition("/")
            if parent == self.volumes and ids.is_valid("volume", vid):
                out.append(
                    {
                        "id": vid,
                        "size_bytes": int(r[SIZE] or 0),
                        "origin": None
                        if r[ORIGIN] in (None, "none")
                        else r[ORIGIN],
                        "ready": r[READY] == "yes",
                    }
                )
        return out

    def _snapshots(self, rows=None) -> list[dict]:
        out = []
        rows = (
            rows
            if rows is not None
            else self.zfs.list(self.volumes, [], types="snapshot")
        )
        for r in rows:
            ds, _, sid = r["name"].partition("@")
            parent, _, vid = ds.rpartition("/")
            if parent == self.volumes and ids.is_valid("snapshot", sid):
                out.append({"id": sid, "volume_id": vid})
        return out

    def list_resources(self) -> dict:
        rows = self._rows()
        names = {r["name"] for r in rows}
        images = []
        for r in rows:
            parent, _, iid = r["name"].rpartition("/")
            if parent == self.images and ids.is_valid("image", iid):
                images.append(
                    {
                        "id": iid,
                        "size_bytes": int(r[SIZE] or 0),
                        "ready": f"{r['name']}@{BASE}" in names,
                    }
                )
        return {
            "volumes": self._volumes(rows),
            "snapshots": self._snapshots(rows),
            "images": images,
        }
