"""RPC endpoint of the storage target agent: ZFS volumes, snapshots, clones,
iSCSI export.

It checks every identifier, size, address and credential a message
carries before any reaches a command, serialises the operations on one
resource, and delegates: storage to the backend (backends/), exports to
the target driver (targets/), image bytes to images.ImageReceiver.
Refusals are the typed errors of errors.py (the caller sees their class
name in RemoteError.exc_type).

Every operation is idempotent, so the scheduler may ask again whatever it
is not sure was done (a retry after a timeout, a flow resumed after a
crash): create_volume of a volume that exists with the same id, size and
origin (a clone of the same image or snapshot) answers it, and one left
half-made by a crash is made again; create_snapshot of an existing one of
the same volume answers it; import_image of the same bytes answers the
image; delete_volume, delete_snapshot and delete_image of a missing one
succeed; export_volume again answers the same connection (the target set
to exactly what is asked: address, user, password); unexport_volume of a
volume not exported succeeds; rebuild_exports makes the same targets.
The same id with another shape is refused (VolumeExists, SnapshotExists,
ImageExists), never replaced.
"""

import threading

import oslo_messaging as messaging
from oslo_log import log

from arame.agents.base import PingManager
from arame.agents.sta import checks, errors, locks, messages
from arame.agents.sta.backends.base import StorageBackend
from arame.agents.sta.images import ImageReceiver
from arame.agents.sta.rpcapi import BINARY
from arame.agents.sta.targets.base import ISCSITarget

LOG = log.getLogger(__name__)

GiB = checks.GiB


class STAManager(PingManager):
    """1.0 - ping
    1.1 - create_volume, delete_volume, create_snapshot, delete_snapshot,
          export_volume, unexport_volume, rebuild_exports, import_image,
          delete_image, capacity, list_resources
    1.2 - fence_initiator
    1.3 - export_volume and rebuild_exports' entries name the CHAP secret
          chap_secret (the old chap_password still read: messages.py)"""

    target = messaging.Target(version="1.3")

    def __init__(
        self,
        backend: StorageBackend,
        iscsi: ISCSITarget,
        *,
        max_volume_gb: int,
        import_dirs: list[str],
    ):
        super().__init__(BINARY)
        self.backend = backend
        self.iscsi = iscsi
        self.max_volume_gb = max_volume_gb
        self.import_dirs = list(import_dirs)
        self.images = ImageReceiver(backend, max_volume_gb)
        # The volumes this process knows tgtd serves (exported or rebuilt):
        # tgtd keeps targets in memory only, so one of these missing from
        # its list means it restarted (check_exports).
        self._exported: set[str] = set()
        self._exported_lock = threading.Lock()
        # Initiators fenced since this process started: a rebuild from
        # the controller's records (which may still place an evacuated
        # instance on its dead host) must not bind them again; only an
        # explicit export_volume to the address lifts it.
        self._fenced: set[str] = set()
        # Until a resync succeeds (at start, or after tgtd stopped
        # answering) the agent cannot know what tgtd should hold.
        self._resync_needed = True

    def inventory(self) -> dict:
        """What the heartbeat carries: the pool's capacity for the
        scheduler (nothing if the pool cannot be read right now)."""
        try:
            return {"storage": self.backend.capacity()}
        except Exception:
            LOG.exception("cannot read the pool's capacity")
            return {}

    # -- volumes -----------------------------------------------------------
    def create_volume(self, ctxt, volume: messages.VolumeSpec) -> dict:
        vid = checks.volume_id(checks.mapping(volume, "volume").get("id"))
        size_gb = checks.size_gb(volume.get("size_gb"), self.max_volume_gb)
        image_id, snapshot_id = (
            volume.get("image_id"),
            volume.get("snapshot_id"),
        )
        if image_id and snapshot_id:
            raise errors.InvalidRequest(
                "a volume comes from an image or a snapshot, not both"
            )
        if image_id:
            checks.image_id(image_id)
        if snapshot_id:
            checks.snapshot_id(snapshot_id)
        with locks.resource(vid):
            LOG.info(
                "create volume %s (%d GiB, from %s)",
                vid,
                size_gb,
                image_id or snapshot_id or "nothing",
            )
            vol = self.backend.create_volume(
                vid, size_gb * GiB, image_id=image_id, snapshot_id=snapshot_id
            )
        return {
            "id": vol.id,
            "size_bytes": vol.size_bytes,
            "origin": vol.origin,
        }

    def delete_volume(self, ctxt, volume_id: str) -> dict:
        """Removes the volume's export too (ExportBusy while an initiator is
        logged in: detach first)."""
        checks.volume_id(volume_id)
        with locks.resource(volume_id):
            LOG.info("delete volume %s", volume_id)
            self._forget_export(volume_id)
            self.iscsi.unexport(volume_id)
            self.backend.delete_volume(volume_id)
        return {}

    # -- snapshots ---------------------------------------------------------
    def create_snapshot(self, ctxt, snapshot: messages.SnapshotSpec) -> dict:
        sid = checks.snapshot_id(
            checks.mapping(snapshot, "snapshot").get("id")
        )
        vid = checks.volume_id(snapshot.get("volume_id"))
        with locks.resource(vid), locks.resource(sid):
            LOG.info("create snapshot %s of %s", sid, vid)
            return self.backend.create_snapshot(sid, vid)

    def delete_snapshot(self, ctxt, snapshot_id: str) -> dict:
        checks.snapshot_id(snapshot_id)
        with locks.resource(snapshot_id):
            LOG.info("delete snapshot %s", snapshot_id)
            self.backend.delete_snapshot(snapshot_id)
        return {}

    # -- exports -----------------------------------------------------------
    def _check_export(
        self, volume_id, initiator_address, chap_user, chap_secret
    ) -> str:
        checks.volume_id(volume_id)
        checks.chap_user(chap_user)
        checks.chap_secret(chap_secret)
        return checks.address(initiator_address)

    def export_volume(
        self,
        ctxt,
        volume_id: str,
        initiator_address: str,
        chap_user: str,
        chap_secret: str | None = None,
        chap_password: str | None = None,
    ) -> messages.Connection:
        """{"iqn", "portal", "lun"}: what the initiator connects to.
        chap_password: the secret as a scheduler older than 1.3 names it
        (messages.accept_old_names)."""
        chap_secret = messages.accept_old_names(
            {"chap_secret": chap_secret, "chap_password": chap_password}
        )["chap_secret"]
        address = self._check_export(
            volume_id, initiator_address, chap_user, chap_secret
        )
        with locks.resource(volume_id):
            path = self.backend.get_volume(volume_id).path
            with self._exported_lock:
                if address in self._fenced:
                    LOG.warning(
                        "initiator %s was fenced: exported to again, so "
                        "rebuilds may bind it again",
                        address,
                    )
                    self._fenced.discard(address)
            conn = self.iscsi.export(
                volume_id, path, address, chap_user, chap_secret
            )
            with self._exported_lock:
                self._exported.add(volume_id)
            return conn

    def unexport_volume(
        self, ctxt, volume_id: str, force: bool = False
    ) -> dict:
        checks.volume_id(volume_id)
        with locks.resource(volume_id):
            # Forgotten first: a check running meanwhile must not take the
            # target going away for a tgtd restart.
            self._forget_export(volume_id)
            self.iscsi.unexport(volume_id, force=bool(force))
        return {}

    def rebuild_exports(self, ctxt, expected: list) -> dict:
        """Put back the exports the controller expects (each {"volume_id",
        "initiator_address", "chap_user", "chap_secret"}: messages.Export;
        chap_password, the name before 1.3, still read) — after tgtd
        restarted, it holds none — and remove ours nobody expects.
        {"restored", "unchanged", "removed", "failed": {volume: why}}."""
        wanted, failed, held = [], {}, set()
        if not isinstance(expected, list):
            raise errors.InvalidRequest("expected must be a list")
        for e in expected:
            e = messages.accept_old_names(
                checks.mapping(e, "an expected export")
            )
            address = self._check_export(
                e.get("volume_id"),
                e.get("initiator_address"),
                e.get("chap_user"),
                e.get("chap_secret"),
            )
            with self._exported_lock:
                fenced = address in self._fenced
            if fenced:
                # Its target stays as the fence left it (no address in
                # its ACL) until the evacuation exports it elsewhere.
                failed[e["volume_id"]] = f"initiator {address} is fenced"
                held.add(e["volume_id"])
                continue
            try:
                path = self.backend.get_volume(e["volume_id"]).path
            except errors.VolumeNotFound as exc:
                failed[e["volume_id"]] = str(exc)
                continue
            wanted.append({**e, "initiator_address": address, "path": path})
        result = self.iscsi.rebuild_exports(wanted, keep=frozenset(held))
        result["failed"].update(failed)
        with self._exported_lock:
            self._exported = set(result["restored"]) | set(result["unchanged"])
        if result["restored"] or result["removed"]:
            LOG.info(
                "exports rebuilt: restored %s, removed %s",
                result["restored"],
                result["removed"],
            )
        return result

    def fence_initiator(self, ctxt, initiator_address: str) -> dict:
        """Cut a (dead) host off every export of this node: its address
        out of every ACL, its sessions closed, and no rebuild binding it
        again until an export_volume names it. Idempotent.
        {"revoked": [volume ids], "sessions_closed": n}."""
        address = checks.address(initiator_address)
        with self._exported_lock:
            self._fenced.add(address)
        return self.iscsi.fence(address)

    # -- keeping exports through tgtd restarts ------------------------------
    def _forget_export(self, volume_id: str) -> None:
        with self._exported_lock:
            self._exported.discard(volume_id)

    def check_exports(self, fetch_expected) -> dict | None:
        """The periodic check (and the start-up resync): if tgtd lost a
        target this agent made, or no resync has succeeded yet, ask the
        controller what to export (`fetch_expected()` -> the collector's
        expected_exports answer) and rebuild. The rebuild's result, or None
        when nothing was needed or possible (tried again next time)."""
        with self._exported_lock:
            known = set(self._exported)
        try:
            have = set(self.iscsi.list_exports())
        except Exception as e:  # noqa: BLE001  (whatever it is: next round)
            # tgtd is down: when it is back it holds nothing.
            LOG.warning("cannot list the iSCSI targets: %s", e)
            self._resync_needed = True
            return None
        with self._exported_lock:
            # Only those still ours: an unexport meanwhile is not a loss.
            missing = sorted((known - have) & self._exported)
        if not missing and not self._resync_needed:
            return None
        if missing:
            LOG.warning(
                "the iSCSI target daemon lost %d export(s) (%s): it "
                "restarted; rebuilding from the controller's records",
                len(missing),
                ", ".join(missing[:5]),
            )
        try:
            expected = fetch_expected()["exports"]
        except Exception as e:  # noqa: BLE001  (whatever it is: next round)
            LOG.warning(
                "cannot ask the collector which exports to hold: %s", e
            )
            self._resync_needed = True
            return None
        result = self.rebuild_exports({}, self._usable(expected))
        self._resync_needed = False
        LOG.info(
            "exports resynced: %d restored, %d unchanged, %d removed, "
            "%d failed",
            len(result["restored"]),
            len(result["unchanged"]),
            len(result["removed"]),
            len(result["failed"]),
        )
        return result

    def _usable(self, expected) -> list:
        """The entries rebuild_exports accepts: one bad record must not
        keep every other export down (it is left out, and logged)."""
        ok = []
        for e in expected if isinstance(expected, list) else []:
            try:
                e = messages.accept_old_names(
                    checks.mapping(e, "an expected export")
                )
                self._check_export(
                    e.get("volume_id"),
                    e.get("initiator_address"),
                    e.get("chap_user"),
                    e.get("chap_secret"),
                )
            except errors.InvalidRequest as exc:
                LOG.warning("expected export left out: %s", exc)
                continue
            ok.append(e)
        return ok

    # -- images ------------------------------------------------------------
    def import_image(
        self, ctxt, image_id: str, source_path: str, sha256: str, size: int
    ) -> dict:
        """Copy a file on this node (under [sta] import_dirs) into the image
        and freeze it; {"id", "size_bytes", "sha256"}."""
        return self.images.import_file(
            image_id, source_path, size, sha256, self.import_dirs
        )

    def delete_image(self, ctxt, image_id: str) -> dict:
        """Volumes made from the image keep working (backends/base.py)."""
        checks.image_id(image_id)
        with locks.resource(image_id):
            LOG.info("delete image %s", image_id)
            self.backend.delete_image(image_id)
        return {}

    # -- reading -----------------------------------------------------------
    def capacity(self, ctxt) -> dict:
        return self.backend.capacity()

    def list_resources(self, ctxt) -> dict:
        """Everything the pool and the target hold, for the reconciler."""
        res = self.backend.list_resources()
        res["exports"] = [
            e.to_dict() for _, e in sorted(self.iscsi.list_exports().items())
        ]
        return res


class RPCEndpoint:
    """The manager as oslo.messaging sees it: the same methods, with the
    refusals of errors.EXPECTED marked expected (logged at debug, not as
    "Exception during message handling" with a traceback). Direct callers
    use the manager itself and get the typed errors unwrapped."""

    def __init__(self, manager: STAManager):
        self._manager = manager
        self.target = manager.target

    # Run by the agent itself, never asked for over the bus.
    LOCAL_ONLY = frozenset({"check_exports"})

    def __getattr__(self, name):
        if name in self.LOCAL_ONLY:
            raise AttributeError(name)
        attr = getattr(self._manager, name)
        if name.startswith("_") or not callable(attr):
            return attr
        return messaging.expected_exceptions(*errors.EXPECTED)(attr)
