"""Snapshots of volumes: taken on the volume's storage node, where the
volumes made from them live too."""

import sqlalchemy as sa

from arame.api.services.records import (
    list_records,
    load_record,
    start_delete,
)
from arame.api.services.scheduling import SchedulerCaster, dispatch
from arame.common import exceptions, ids, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

# A volume in these states holds data a snapshot can be taken of.
SNAPSHOT_SOURCES = ("available", "attached")


def to_dict(snap: models.Snapshot) -> dict:
    return {
        "id": snap.id,
        "name": snap.name,
        "account_id": snap.account_id,
        "volume_id": snap.volume_id,
        "size_gb": snap.size_gb,
        "status": snap.status,
        "status_reason": snap.status_reason,
        "storage_node": snap.storage_node,
        "created_at": snap.created_at,
        "updated_at": snap.updated_at,
        "deleted_at": snap.deleted_at,
    }


def dependents(s, snapshot_id: str) -> list[str]:
    """Live volumes made from the snapshot (clones that need it)."""
    V = models.Volume
    return list(
        s.scalars(
            sa.select(V.id)
            .where(V.snapshot_id == snapshot_id, V.status != "deleted")
            .order_by(V.id)
        )
    )


class SnapshotService(SchedulerCaster):
    def get(self, ctxt, snapshot_id: str) -> dict:
        with db_engine.session() as s:
            return to_dict(
                load_record(
                    s,
                    ctxt,
                    models.Snapshot,
                    "snapshot",
                    snapshot_id,
                    "snapshots:get",
                )
            )

    def list(self, ctxt, **filters) -> dict:
        return list_records(
            ctxt, models.Snapshot, to_dict, "snapshots:all_accounts", **filters
        )

    def create(self, ctxt, req) -> dict:
        with db_engine.session() as s:
            vol = load_record(
                s,
                ctxt,
                models.Volume,
                "volume",
                req.volume_id,
                "snapshots:create",
            )
            if vol.root_of:
                # The instance's delete removes its root volume, which a
                # snapshot would keep from going.
                raise exceptions.Conflict(
                    f"volume {vol.id} is the root volume of {vol.root_of}: "
                    "snapshots of root volumes are not supported yet",
                    instance_id=vol.root_of,
                )
            if vol.status not in SNAPSHOT_SOURCES or vol.storage_node is None:
                raise exceptions.Conflict(
                    f"cannot snapshot volume {vol.id} while it is "
                    f"{vol.status}; it must be available",
                    status=vol.status,
                )
            now = models.utcnow()
            # The snapshot belongs with its volume (an admin's snapshot of
            # another account's volume is that account's).
            snap = models.Snapshot(
                id=ids.generate("snapshot"),
                name=req.name,
                account_id=vol.account_id,
                volume_id=vol.id,
                size_gb=vol.size_gb,
                status="pending",
                storage_node=vol.storage_node,
                created_at=now,
                updated_at=now,
            )
            s.add(snap)
            s.flush()
            task = tasks.create(
                s,
                account_id=snap.account_id,
                resource_id=snap.id,
                resource_type="snapshot",
                action="create",
                timeout_s=CONF.scheduler.snapshot_timeout,
                request_id=ctxt.request_id,
            )
        dispatch(
            lambda: self.scheduler.create_snapshot(ctxt, task.id, snap.id),
            task.id,
            (models.Snapshot, snap.id, ("pending",)),
        )
        return {**to_dict(snap), "task_id": task.id}

    def delete(self, ctxt, snapshot_id: str) -> dict:
        with db_engine.session() as s:
            snap = load_record(
                s,
                ctxt,
                models.Snapshot,
                "snapshot",
                snapshot_id,
                "snapshots:delete",
            )
            if snap.status == "deleted":
                raise exceptions.Conflict(
                    f"snapshot {snap.id} is already deleted"
                )
            deps = dependents(s, snap.id)
            if deps:
                raise exceptions.Conflict(
                    f"snapshot {snap.id} has volumes made from it: "
                    f"{', '.join(deps)}; delete them first",
                    volumes=deps,
                )
            task = start_delete(s, ctxt, "snapshot", snap)
            s.refresh(snap)
            out = to_dict(snap)
        dispatch(
            lambda: self.scheduler.delete_snapshot(ctxt, task.id, snap.id),
            task.id,
            (models.Snapshot, snap.id, ("deleting",)),
        )
        return {**out, "task_id": task.id}
