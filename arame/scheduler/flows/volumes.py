"""Volumes and snapshots on storage nodes: create and delete, one sta call
each (plus an image import the first time a node needs the image).

The API has written the record (volume or snapshot `pending`, or moved it
to `deleting`) and the task; these flows place it, call the storage agent
(arame-sta) and land the final state, or end the task failed at the step
with the agent's reason and the record in `error`. Agents answer
idempotently, so a DELETE of a record in error simply tries again, and a
call that got no answer is asked again while the node is up.

A flow adopted from a scheduler that died resumes from the record: a
create that found it `creating` continues on the node it names (the
placement is never redone); one whose record was deleted meanwhile removes
what it may have made; a delete simply asks again.
"""

import sqlalchemy as sa
from oslo_log import log

from arame.common import quotas, states
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models, services
from arame.scheduler.flows import liveness, root_volume
from arame.scheduler.flows.base import Cancelled, StepFailed
from arame.scheduler.flows.row_flow import RowFlow
from arame.scheduler.storage_room import with_room

LOG = log.getLogger(__name__)

STA_BINARY = root_volume.STA_BINARY
GiB = 1024**3


def sta_down(node: str):
    """Is storage node `node` down? By its agent's heartbeat, as the
    placement (services.live_hosts) judges it."""
    return liveness.service_down(STA_BINARY, node)


def refusal(exc: BaseException) -> str:
    """The class name of an agent's typed refusal (arame.agents.sta.errors),
    as RemoteError carries it over the bus or as raised in process."""
    return getattr(exc, "exc_type", None) or type(exc).__name__


# -- placement ----------------------------------------------------------------
def least_provisioned(s, nodes: list[str]) -> str:
    """The node whose live volumes add up to the fewest GiB."""
    V = models.Volume
    used = dict(
        s.execute(
            sa.select(V.storage_node, sa.func.sum(V.size_gb))
            .where(V.storage_node.in_(nodes), V.status != "deleted")
            .group_by(V.storage_node)
        ).all()
    )
    return min(nodes, key=lambda n: (used.get(n) or 0, n))


def _no_room(size_gb: int, why: dict) -> StepFailed:
    return StepFailed(
        "schedule",
        f"no storage node can hold {size_gb} GiB: "
        + "; ".join(why[n] for n in sorted(why)),
    )


def place_volume(s, vol: models.Volume) -> tuple[str, models.Image | None]:
    """(node, image to import there first or None). A volume from a
    snapshot is a clone of it: on the snapshot's node or nowhere. A volume
    from an image goes where the image is, else anywhere (imported). Only
    nodes with room for it (with_room) are chosen."""
    nodes, full = with_room(s, services.live_hosts(s, STA_BINARY), vol.size_gb)
    if vol.snapshot_id:
        snap = s.get(models.Snapshot, vol.snapshot_id)
        if snap is None or snap.status != "available":
            raise StepFailed(
                "schedule",
                f"snapshot {vol.snapshot_id} is "
                f"{snap.status if snap else 'gone'}",
            )
        if snap.storage_node in full:
            raise _no_room(
                vol.size_gb, {snap.storage_node: full[snap.storage_node]}
            )
        if snap.storage_node not in nodes:
            raise StepFailed(
                "schedule",
                f"storage node {snap.storage_node} "
                f"of snapshot {snap.id} is down",
            )
        return snap.storage_node, None
    if not nodes and full:
        raise _no_room(vol.size_gb, full)
    if not nodes:
        raise StepFailed("schedule", f"no storage node ({STA_BINARY}) is up")
    if not vol.image_id:
        return least_provisioned(s, nodes), None
    img = s.get(models.Image, vol.image_id)
    if img is None or img.status != "available":
        raise StepFailed(
            "schedule",
            f"image {vol.image_id} is {img.status if img else 'gone'}",
        )
    IL = models.ImageLocation
    located = set(
        s.scalars(sa.select(IL.storage_node).where(IL.image_id == img.id))
    )
    holders = [n for n in nodes if n in located]
    if holders:
        return least_provisioned(s, holders), None
    return least_provisioned(s, nodes), img


def record_located(image_id: str, node: str) -> None:
    try:
        root_volume.record_located(image_id, node)
    except sa.exc.IntegrityError:
        pass  # a concurrent flow recorded it first


# -- flows --------------------------------------------------------------------
class RecordFlow(RowFlow):
    """A task on a volume or snapshot row (`resource_id`, of `kind`): its
    state table, its landing and the storage agent's calls."""

    def __init__(self, ctxt, task_id: str, resource_id: str, sta):
        super().__init__(ctxt, task_id, resource_id)
        self.sta = sta
        self.record = None
        self.reached: set[str | None] = set()

    @property
    def own_states(self) -> tuple[str, ...]:
        return states.RECORD_TASKS[self.kind][self.action].busy

    def load(self, s) -> None:
        self.record = s.get(self.model, self.resource_id)
        if self.adopted:
            # The steps a previous attempt began (the task shows the one
            # it was in): what it may have asked an agent for.
            task = s.get(models.Task, self.task_id)
            self.reached = {task.step} | {e.step for e in task.events}

    @property
    def machine(self) -> states.StateMachine:
        return states.RECORD_MACHINES[self.kind]

    def land(self, then=None, **values) -> bool:
        """The final state and the task's end, in one commit (with
        `then(session)`, e.g. the quota's give-back); False if the record
        had moved meanwhile (the task ends failed)."""
        final = states.RECORD_TASKS[self.kind][self.action].final
        with db_engine.session() as s:
            if self.transition(s, final, src=self.own_states[-1:], **values):
                if then is not None:
                    then(s)
                self.finish(s)
                return True
            self.end_task(
                s,
                "failed",
                None,
                f"cancelled: the {self.kind} changed state while the task ran",
            )
        return False

    def emit_volume_usage(self, event: str, vol: models.Volume) -> None:
        """After the commit that made it true: the collector appends the
        ledger record (exactly once, however often this is delivered). A
        root volume is billed with its instance (the flavor's disk)."""
        if vol.root_of:
            return
        self.notify_usage(
            event,
            {
                "account_id": vol.account_id,
                "resource_id": vol.id,
                "resource_type": "volume",
                "size_gb": vol.size_gb,
                "at": models.utcnow().isoformat(),
            },
        )

    def agent_call(
        self,
        step: str,
        host: str,
        method: str,
        *args,
        gone: str | None = None,
        undo=None,
    ):
        """One sta call as a step, asked again while the node is up and
        does not answer; the refusal `gone` (the thing is not there)
        counts as done: every delete is idempotent. `undo` as step()
        takes it."""
        with self.step(step, host=host, undo=undo):
            self.call_timeout(step)
            self.checkpoint()
            try:
                return self.ask(
                    step,
                    host,
                    getattr(self.sta, method),
                    *args,
                    down=sta_down(host),
                )
            except Exception as e:
                if gone is not None and refusal(e) == gone:
                    return {}
                raise

    def sta_undo(self, host: str, method: str, resource_id: str, gone: str):
        """An undo for step(): what a failed create may have left on the
        node. If the node does not answer, the record stays in error with
        its node and a DELETE removes it there."""

        def undo():
            try:
                getattr(self.sta, method)(
                    self.ctxt,
                    host,
                    resource_id,
                    timeout=CONF.scheduler.agent_call_timeout,
                )
            except Exception as e:
                if refusal(e) != gone:
                    raise

        return undo

    def begin_create(self, undo_method: str, gone: str) -> bool:
        """False (task ended) if the record was deleted before it began.
        An adopted create also continues a record it finds `creating`
        (the attempt that died placed it); one it finds deleted meanwhile
        loses what that attempt may have made on its node."""
        if not self.begin():
            return False
        rec = self.record
        if rec is not None and rec.status == "pending":
            return True
        if self.adopted and rec is not None and rec.status == "creating":
            return True
        when = "before it was created"
        if (
            self.adopted
            and rec is not None
            and rec.status in ("deleting", "deleted")
            and rec.storage_node
            and self.kind in self.reached
        ):
            self.undo_on_node(rec.storage_node, undo_method, gone)
            when = "while it was being created"
        self.fail(
            None,
            f"cancelled: the {self.kind} was deleted {when}",
            resource_error=False,
        )
        return False

    def undo_on_node(self, node: str, method: str, gone: str) -> None:
        """An adopted create of a record deleted meanwhile: remove what a
        previous attempt may have made (idempotent; the record's own
        delete does it too, but a create still in flight then may have
        landed after it). If the node does not answer, the task's failed
        undo step names what it may still hold."""
        self._undo.append(
            (
                f"undo-{self.kind}",
                node,
                self.sta_undo(node, method, self.resource_id, gone),
            )
        )
        self.undo_steps()

    def start_creating(self, node: str) -> None:
        """pending -> creating on `node`; an adopted create that found it
        creating already has nothing to move."""
        if self.record.status == "creating":
            return
        with db_engine.session() as s:
            self.flush(s)
            if not self.transition(
                s, "creating", src=("pending",), storage_node=node
            ):
                raise Cancelled()

    def run(self) -> None:
        try:
            self.run_steps()
        except Cancelled:
            self.fail(
                None,
                f"cancelled: the {self.kind} was deleted before "
                "it was created",
                resource_error=False,
            )

    def run_steps(self) -> None:
        raise NotImplementedError


class CreateVolumeFlow(RecordFlow):
    kind, action, model = "volume", "create", models.Volume

    def run_steps(self) -> None:
        if not self.begin_create("delete_volume", "VolumeNotFound"):
            return
        vol = self.record
        try:
            if vol.status == "creating":
                # Adopted: placed by the attempt that died (and counted
                # on its node since); continued there.
                node, image = vol.storage_node, self.image_missing_on(vol)
            else:
                node, image = self.schedule(vol)
            self.start_creating(node)
            if image is not None:
                self.agent_call(
                    "import-image",
                    node,
                    "import_image",
                    image.id,
                    root_volume.image_source(image.id),
                    image.sha256,
                    image.size_bytes,
                )
                record_located(image.id, node)
            spec = {"id": vol.id, "size_gb": vol.size_gb}
            if vol.image_id:
                spec["image_id"] = vol.image_id
            if vol.snapshot_id:
                spec["snapshot_id"] = vol.snapshot_id
            self.agent_call(
                "volume",
                node,
                "create_volume",
                spec,
                undo=self.sta_undo(
                    node, "delete_volume", vol.id, gone="VolumeNotFound"
                ),
            )
        except StepFailed as e:
            self.undo_steps()
            self.fail(e.step, e.message)
            return
        if self.land():
            self.emit_volume_usage("open", vol)

    def schedule(self, vol: models.Volume) -> tuple[str, models.Image | None]:
        with self.step("schedule") as rec:
            with db_engine.session() as s:
                self.flush(s)
                node, image = place_volume(s, vol)
            rec.host = node
        return node, image

    def image_missing_on(self, vol: models.Volume) -> models.Image | None:
        """The image a resumed create imports first: its volume's, if
        its node does not hold it yet."""
        if not vol.image_id:
            return None
        with db_engine.session() as s:
            where = (vol.image_id, vol.storage_node)
            if s.get(models.ImageLocation, where) is not None:
                return None
            return s.get(models.Image, vol.image_id)


class DeleteVolumeFlow(RecordFlow):
    kind, action, model = "volume", "delete", models.Volume

    def run_steps(self) -> None:
        if not self.begin():
            return
        vol = self.record
        try:
            if vol.storage_node is not None:
                # VolumeHasSnapshots lands here only if a snapshot raced the
                # API's check: the volume is intact, the task says why.
                self.agent_call(
                    "volume",
                    vol.storage_node,
                    "delete_volume",
                    vol.id,
                    gone="VolumeNotFound",
                )
        except StepFailed as e:
            self.fail(e.step, e.message)
            return
        now = models.utcnow()
        if self.land(
            then=lambda s: quotas.release_volume(s, vol.id),
            deleted_at=now,
            instance_id=None,
        ):
            # Closes only what was opened: the collector drops a close
            # with no open (a volume that never became available).
            self.emit_volume_usage("close", vol)


class CreateSnapshotFlow(RecordFlow):
    kind, action, model = "snapshot", "create", models.Snapshot

    def run_steps(self) -> None:
        if not self.begin_create("delete_snapshot", "SnapshotNotFound"):
            return
        snap, node = self.record, self.record.storage_node
        try:
            # The API refuses to delete a volume with live snapshots; if one
            # went anyway, the agent answers VolumeNotFound here.
            self.start_creating(node)
            self.agent_call(
                "snapshot",
                node,
                "create_snapshot",
                {"id": snap.id, "volume_id": snap.volume_id},
                undo=self.sta_undo(
                    node, "delete_snapshot", snap.id, gone="SnapshotNotFound"
                ),
            )
        except StepFailed as e:
            self.undo_steps()
            self.fail(e.step, e.message)
            return
        self.land()


class DeleteSnapshotFlow(RecordFlow):
    kind, action, model = "snapshot", "delete", models.Snapshot

    def run_steps(self) -> None:
        if not self.begin():
            return
        snap = self.record
        try:
            if snap.storage_node is not None:
                self.agent_call(
                    "snapshot",
                    snap.storage_node,
                    "delete_snapshot",
                    snap.id,
                    gone="SnapshotNotFound",
                )
        except StepFailed as e:
            self.fail(e.step, e.message)
            return
        self.land(deleted_at=models.utcnow())


FLOWS = {
    ("volume", "create"): CreateVolumeFlow,
    ("volume", "delete"): DeleteVolumeFlow,
    ("snapshot", "create"): CreateSnapshotFlow,
    ("snapshot", "delete"): DeleteSnapshotFlow,
}
