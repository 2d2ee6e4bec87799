"""Volumes: what the API decides before the scheduler places one on a
storage node (validation, the first records, the refusals that need no
agent), and the reads. Root volumes of instances are listed too, read-only.

What volumes share with snapshots (records readable once deleted, owned
by an account, changed through tasks) is in records.py.
"""

import math

import sqlalchemy as sa

from arame.api import lookup, tags
from arame.api.services.records import list_records, load_record, start_delete
from arame.api.services.scheduling import SchedulerCaster, dispatch
from arame.common import exceptions, ids, quotas, states, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

GiB = 1024**3


# -- volumes ------------------------------------------------------------------
def to_dict(v: models.Volume) -> dict:
    # CHAP credentials and export details never leave the controller here.
    return {
        "id": v.id,
        "name": v.name,
        "account_id": v.account_id,
        "size_gb": v.size_gb,
        "status": v.status,
        "status_reason": v.status_reason,
        "image": v.image_id,
        "snapshot": v.snapshot_id,
        "storage_node": v.storage_node,
        "instance_id": v.instance_id,
        "root_of": v.root_of,
        "device": v.device,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
        "deleted_at": v.deleted_at,
    }


def live_snapshots(s, volume_id: str) -> list[str]:
    S = models.Snapshot
    return list(
        s.scalars(
            sa.select(S.id)
            .where(S.volume_id == volume_id, S.status != "deleted")
            .order_by(S.id)
        )
    )


def _check_size(size_gb: int, needed: int | None, origin: str) -> None:
    limit = CONF.sta.max_volume_gb
    if size_gb > limit:
        raise exceptions.Invalid(
            f"size_gb: at most {limit} GiB", field="size_gb", limit=limit
        )
    if needed is not None and size_gb < needed:
        raise exceptions.Invalid(
            f"size_gb: {origin} needs at least {needed} GiB",
            field="size_gb",
            minimum=needed,
        )


def _quota_account(ctxt, req) -> str:
    """The account the new volume will be charged to (a volume cloned from
    a snapshot belongs to the snapshot's account), so that its quota row
    exists before the transaction that takes from it."""
    if req.snapshot and ids.is_valid("snapshot", req.snapshot):
        with db_engine.session() as s:
            snap = s.get(models.Snapshot, req.snapshot)
            if snap is not None:
                return snap.account_id
    return ctxt.account_id


class VolumeService(SchedulerCaster):
    # -- reads --------------------------------------------------------------
    def get(self, ctxt, volume_id: str) -> dict:
        with db_engine.session() as s:
            vol = load_record(
                s, ctxt, models.Volume, "volume", volume_id, "volumes:get"
            )
            return {**to_dict(vol), "tags": tags.tags_of(s, [vol.id])[vol.id]}

    def list(self, ctxt, **filters) -> dict:
        return list_records(
            ctxt,
            models.Volume,
            to_dict,
            "volumes:all_accounts",
            tagged=True,
            **filters,
        )

    # -- writes -------------------------------------------------------------
    def _origin(self, s, ctxt, req) -> tuple[str, int | None, str | None]:
        """(account of the new volume, the least size, what it comes from)"""
        if req.image and req.snapshot:
            raise exceptions.Invalid(
                "snapshot: a volume comes from an image "
                "or a snapshot, not both",
                field="snapshot",
            )
        if req.snapshot:
            snap = load_record(
                s,
                ctxt,
                models.Snapshot,
                "snapshot",
                req.snapshot,
                "snapshots:get",
            )
            if snap.status != "available":
                raise exceptions.Conflict(
                    f"snapshot {snap.id} is {snap.status}, not available",
                    status=snap.status,
                )
            # An admin cloning another account's snapshot makes it a
            # volume of that account, beside its origin.
            return snap.account_id, snap.size_gb, f"snapshot {snap.id}"
        if req.image:
            img = s.get(models.Image, req.image)
            if (
                img is None
                or img.status == "deleted"
                or not (
                    img.visibility == "public"
                    or img.account_id == ctxt.account_id
                )
            ):
                raise exceptions.NotFound(f"image {req.image} not found")
            if img.format != "raw":
                raise exceptions.Invalid(
                    f"image: {img.id} is a {img.format} image; a volume is "
                    "made from a raw disk image",
                    field="image",
                )
            if img.status != "available":
                raise exceptions.Invalid(
                    f"image: {img.id} is {img.status}, not available",
                    field="image",
                )
            needed = (
                math.ceil(img.size_bytes / GiB) if img.size_bytes else None
            )
            return ctxt.account_id, needed, f"image {img.id}"
        return ctxt.account_id, None, None

    def create(self, ctxt, req) -> dict:
        quotas.ensure_row(_quota_account(ctxt, req))
        with db_engine.session() as s:
            account_id, needed, origin = self._origin(s, ctxt, req)
            size_gb = req.size_gb if req.size_gb is not None else needed
            if size_gb is None:
                raise exceptions.Invalid(
                    "size_gb: required"
                    + (
                        f" ({origin} does not say its size yet)"
                        if origin
                        else ""
                    ),
                    field="size_gb",
                )
            _check_size(size_gb, needed, origin)
            vol_id = ids.generate("volume")
            # 429 with the limit, before anything is written; given back
            # when the delete flow lands the volume `deleted`.
            quotas.take_volume(s, account_id, vol_id, size_gb)
            now = models.utcnow()
            vol = models.Volume(
                id=vol_id,
                name=req.name,
                account_id=account_id,
                size_gb=size_gb,
                status="pending",
                image_id=req.image,
                snapshot_id=req.snapshot,
                created_at=now,
                updated_at=now,
            )
            s.add(vol)
            s.flush()
            labels = tags.tag_new(s, vol.id, req.tags)
            task = tasks.create(
                s,
                account_id=account_id,
                resource_id=vol.id,
                resource_type="volume",
                action="create",
                timeout_s=CONF.scheduler.build_timeout,
                request_id=ctxt.request_id,
            )
        dispatch(
            lambda: self.scheduler.create_volume(ctxt, task.id, vol.id),
            task.id,
            (models.Volume, vol.id, ("pending",)),
        )
        return {**to_dict(vol), "tags": labels, "task_id": task.id}

    def _refuse_delete(self, s, vol: models.Volume) -> None:
        """409 with the reason when the volume cannot go now."""
        if vol.status == "deleted":
            raise exceptions.Conflict(f"volume {vol.id} is already deleted")
        if vol.root_of:
            inst = s.get(models.Instance, vol.root_of)
            if inst is not None and inst.status != "terminated":
                raise exceptions.Conflict(
                    f"volume {vol.id} is the root volume of {inst.id}: "
                    "delete the instance",
                    instance_id=inst.id,
                )
        elif vol.instance_id:
            raise exceptions.Conflict(
                f"volume {vol.id} is attached to {vol.instance_id}: detach "
                "it first",
                instance_id=vol.instance_id,
            )
        snaps = live_snapshots(s, vol.id)
        if snaps:
            raise exceptions.Conflict(
                f"volume {vol.id} has snapshots: {', '.join(snaps)}; delete "
                "them first",
                snapshots=snaps,
            )

    def delete(self, ctxt, volume_id: str) -> dict:
        V = models.Volume
        with db_engine.session() as s:
            vol = load_record(
                s, ctxt, V, "volume", volume_id, "volumes:delete"
            )
            self._refuse_delete(s, vol)
            if (
                vol.root_of
                and vol.status
                not in states.RECORD_TASKS["volume"]["delete"].src
            ):
                # Left behind by an instance that is gone (its delete could
                # not reach the node): the table's way out is through error.
                s.execute(
                    sa.update(V)
                    .where(
                        V.id == vol.id,
                        V.status.in_(states.VOLUME.sources("error")),
                    )
                    .values(
                        status="error",
                        status_reason=(
                            f"instance {vol.root_of} is terminated"
                        ),
                    )
                    .execution_options(synchronize_session=False)
                )
            task = start_delete(s, ctxt, "volume", vol)
            s.refresh(vol)
            out = to_dict(vol)
        dispatch(
            lambda: self.scheduler.delete_volume(ctxt, task.id, vol.id),
            task.id,
            (V, vol.id, ("deleting",)),
        )
        return {**out, "task_id": task.id}

    def action(self, ctxt, volume_id: str, body) -> dict:
        if body.action == "attach":
            return attach(self.scheduler, ctxt, volume_id, body.instance_id)
        return detach(self.scheduler, ctxt, volume_id)


# -- attach / detach (scheduler/flows/volume_attach.py) -----------------------
def max_volumes() -> int:
    return CONF.hva.max_volumes


ATTACH_STATES = ("running", "stopped")


def _refuse_attach(s, vol: models.Volume, inst: models.Instance) -> None:
    """409 with the reason (and the state) when it cannot be attached."""
    if vol.root_of:
        raise exceptions.Conflict(
            f"volume {vol.id} is the root volume of {vol.root_of}",
            instance_id=vol.root_of,
        )
    if vol.status != "available":
        raise exceptions.Conflict(
            f"cannot attach volume {vol.id} while it is {vol.status}; it "
            "must be available",
            status=vol.status,
        )
    if inst.account_id != vol.account_id:
        raise exceptions.Conflict(
            f"volume {vol.id} and instance {inst.id} belong to different "
            "accounts"
        )
    if inst.provider != "vm":
        raise exceptions.Conflict(
            f"instance {inst.id} is a {inst.provider} instance: only virtual "
            "machines take volumes",
            provider=inst.provider,
        )
    if inst.status not in ATTACH_STATES:
        raise exceptions.Conflict(
            f"cannot attach to instance {inst.id} while it is {inst.status}; "
            "it must be running or stopped",
            status=inst.status,
        )
    V = models.Volume
    held = s.scalar(
        sa.select(sa.func.count())
        .select_from(V)
        .where(
            V.instance_id == inst.id,
            V.root_of.is_(None),
            V.status.in_(("attaching", "attached", "detaching")),
        )
    )
    limit = max_volumes()
    if held >= limit:
        raise exceptions.Conflict(
            f"instance {inst.id} has {held} volumes: at most {limit}",
            limit=limit,
        )


def _start(s, ctxt, vol: models.Volume, action: str, **values) -> models.Task:
    """CAS the volume into the action's busy state (409 if it moved) and
    write the task, in the caller's transaction."""
    V = models.Volume
    t = states.RECORD_TASKS["volume"][action]
    rc = s.execute(
        sa.update(V)
        .where(V.id == vol.id, V.status.in_(t.src))
        .values(
            status=t.busy[0],
            status_reason=None,
            updated_at=models.utcnow(),
            **values,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if rc != 1:
        s.refresh(vol)
        raise exceptions.Conflict(
            f"cannot {action} volume {vol.id} while it is {vol.status}",
            status=vol.status,
        )
    return tasks.create(
        s,
        account_id=vol.account_id,
        resource_id=vol.id,
        resource_type="volume",
        action=action,
        timeout_s=CONF.scheduler.action_timeout,
        request_id=ctxt.request_id,
    )


def attach(scheduler, ctxt, volume_id: str, instance_id: str) -> dict:
    V = models.Volume
    with db_engine.session() as s:
        vol = load_record(s, ctxt, V, "volume", volume_id, "volumes:action")
        inst = lookup.load_owned(
            s, ctxt, models.Instance, "instance", instance_id, "instances:get"
        )
        # Concurrent attaches to one instance count one after the other.
        s.execute(
            sa.select(models.Instance.id)
            .where(models.Instance.id == inst.id)
            .with_for_update()
        )
        _refuse_attach(s, vol, inst)
        task = _start(s, ctxt, vol, "attach", instance_id=inst.id, device=None)
        s.refresh(vol)
        out = to_dict(vol)
    dispatch(
        lambda: scheduler.attach_volume(ctxt, task.id, vol.id),
        task.id,
        (V, vol.id, ("attaching",)),
    )
    return {**out, "task_id": task.id}


def detach(scheduler, ctxt, volume_id: str) -> dict:
    V = models.Volume
    with db_engine.session() as s:
        vol = load_record(s, ctxt, V, "volume", volume_id, "volumes:action")
        if vol.root_of:
            raise exceptions.Conflict(
                f"volume {vol.id} is the root volume of {vol.root_of}: it "
                "goes with the instance",
                instance_id=vol.root_of,
            )
        if vol.status != "attached":
            raise exceptions.Conflict(
                f"cannot detach volume {vol.id} while it is {vol.status}; "
                "it must be attached",
                status=vol.status,
            )
        task = _start(s, ctxt, vol, "detach")
        s.refresh(vol)
        out = to_dict(vol)
    dispatch(
        lambda: scheduler.detach_volume(ctxt, task.id, vol.id),
        task.id,
        (V, vol.id, ("detaching",)),
    )
    return {**out, "task_id": task.id}
