"""Attach a data volume to an instance, detach it, and give an instance's
data volumes back when it is deleted.

Attach: export the volume from its storage node to the instance's host
only (its iSCSI initiator address) with fresh CHAP credentials, then hva
hot-plugs the disk (the CHAP secret becomes a libvirt secret there) and
answers the guest's device name. A failure undoes what was done and puts
the volume back to `available` with the reason; only an undo that fails
leaves it in `error`.

Detach: hva unplugs the disk (waiting for the guest to let it go), then
the storage node drops the export; the volume is `available` again. If
hva cannot unplug it the volume stays `attached` with the reason.

The API moved the volume to attaching (with `instance_id`) or detaching
and wrote the task; these flows land the final state. Every call is asked
again while its agent's host is up and does not answer (every operation
is idempotent). A flow adopted from a scheduler that died runs again from
the record: an attach keeps the credentials the attempt that died gave
the volume (the host may hold them already), a detach asks both agents
again; one whose instance was deleted meanwhile finds its volume released.
"""

import secrets

import sqlalchemy as sa
from oslo_log import log

from arame.agents.hva import messages as hva_messages
from arame.agents.sta import messages as sta_messages
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.flows import liveness
from arame.scheduler.flows.base import HostDown, StepFailed
from arame.scheduler.flows.volumes import RecordFlow, refusal, sta_down

LOG = log.getLogger(__name__)

# The instance states a volume may be attached in (the API checks them
# too; the flow checks again, the instance may have moved since).
INSTANCE_STATES = ("running", "stopped")
# Data volumes the delete of their instance gives back.
HELD = ("attaching", "attached", "detaching")
DETACHED = {
    "instance_id": None,
    "device": None,
    "export_iqn": None,
    "export_portal": None,
}


def chap_credentials(volume_id: str) -> tuple[str, str]:
    """Fresh at every attach: a host that once had the volume cannot log
    in again with what it kept."""
    return f"arame-{volume_id[4:]}", secrets.token_hex(12)


def connection(
    vol: models.Volume,
    export: sta_messages.Connection,
    chap_user: str,
    chap_secret: str,
) -> hva_messages.IscsiDisk:
    """What hva needs to plug the disk (the only place the secret goes
    besides the storage node)."""
    return {
        "volume_id": vol.id,
        "portal": export["portal"],
        "iqn": export["iqn"],
        "lun": export["lun"],
        "chap_user": chap_user,
        "chap_secret": chap_secret,
    }


class _AttachmentFlow(RecordFlow):
    kind, model = "volume", models.Volume

    def __init__(self, ctxt, task_id, volume_id, sta, hva):
        super().__init__(ctxt, task_id, volume_id, sta)
        self.hva = hva

    @property
    def volume_id(self) -> str:
        return self.resource_id

    def hva_call(self, step: str, host: str, method: str, *args, undo=None):
        """One hva call as a step, asked again while the host is up."""
        with self.step(step, host=host, undo=undo):
            self.call_timeout(step)
            self.checkpoint()
            return self.ask(
                step,
                host,
                getattr(self.hva, method),
                *args,
                down=liveness.hypervisor_down(host),
            )

    def end(self, dst: str, step: str | None, message: str, **values) -> None:
        """The task failed; the volume goes to dst (error if it moved)."""
        with db_engine.session() as s:
            self.end_task(s, "failed", step, message)
            reason = self.error_reason(step, message)
            if not self.transition(
                s, dst, src=self.own_states, reason=reason, **values
            ):
                LOG.info(
                    "volume %s left %s meanwhile",
                    self.resource_id,
                    self.own_states,
                )
        LOG.warning(
            "task %s (%s %s) failed at %s: %s",
            self.task_id,
            self.action,
            self.resource_id,
            step,
            message,
        )

    def begin_in(self, status: str) -> bool:
        return self.begin() and self.in_state(status)

    def in_state(self, status: str) -> bool:
        """False (the task ended) if the volume is not in `status`."""
        if self.record is None or self.record.status != status:
            self.fail(
                None,
                f"cancelled: the volume is "
                f"{self.record.status if self.record else 'gone'}, not "
                f"{status}",
                resource_error=False,
            )
            return False
        return True


class AttachVolumeFlow(_AttachmentFlow):
    action = "attach"

    def target(self, vol: models.Volume) -> tuple[str, str]:
        """(host of the instance, its iSCSI initiator address)"""
        with db_engine.session() as s:
            inst = s.get(models.Instance, vol.instance_id)
            if inst is None or inst.status not in INSTANCE_STATES:
                raise StepFailed(
                    "check",
                    f"instance {vol.instance_id} is "
                    f"{inst.status if inst else 'gone'}, not "
                    "running or stopped",
                )
            host = s.scalar(
                sa.select(models.Host).where(models.Host.name == inst.host)
            )
            if host is None or not host.storage_address:
                raise StepFailed(
                    "check",
                    f"host {inst.host} of {inst.id} "
                    "has no iSCSI initiator address",
                )
            if not vol.storage_node:
                raise StepFailed(
                    "check", f"volume {vol.id} is on no storage node"
                )
            return inst.host, host.storage_address

    def run_steps(self) -> None:
        if not self.begin_in("attaching"):
            return
        vol, host = self.record, None
        try:
            with self.step("check"):
                host, initiator = self.target(vol)
            user, secret = self.credentials(vol)
            with db_engine.session() as s:
                self.flush(s)
                s.execute(
                    sa.update(models.Volume)
                    .where(models.Volume.id == vol.id)
                    .values(chap_user=user, chap_secret=secret)
                )
            export = self.agent_call(
                "export",
                vol.storage_node,
                "export_volume",
                vol.id,
                initiator,
                user,
                secret,
                undo=self.unexport(vol),
            )
            result = self.hva_call(
                "attach",
                host,
                "attach_volume",
                vol.instance_id,
                connection(vol, export, user, secret),
                # An attach that timed out may have happened after all.
                undo=self.unplug(vol, host),
            )
        except StepFailed as e:
            undone = self.undo_steps()
            self.end(
                "available" if undone else "error",
                e.step,
                e.message,
                **(DETACHED if undone else {}),
            )
            return
        with db_engine.session() as s:
            if self.transition(
                s,
                "attached",
                src=("attaching",),
                device=result.get("device"),
                export_iqn=export["iqn"],
                export_portal=export["portal"],
            ):
                self.finish(s)
                return
            self.flush(s)
        # The instance was deleted meanwhile and gave the volume back.
        self.undo_steps()
        with db_engine.session() as s:
            self.end_task(
                s,
                "failed",
                None,
                "cancelled: the volume was released while it was attached",
            )

    def credentials(self, vol: models.Volume) -> tuple[str, str]:
        """Fresh ones, but an adopted attach keeps those its check step
        wrote (in the commit that recorded it done): its export, and the
        host's copy of the secret, may be made already."""
        if (
            self.adopted
            and "check" in self.done_steps
            and vol.chap_user
            and vol.chap_secret
        ):
            return vol.chap_user, vol.chap_secret
        return chap_credentials(vol.id)

    # Undos run even past the task's deadline.
    def unplug(self, vol: models.Volume, host: str):
        return lambda: self.hva.detach_volume(
            self.ctxt,
            host,
            vol.instance_id,
            vol.id,
            timeout=CONF.scheduler.agent_call_timeout,
        )

    def unexport(self, vol: models.Volume):
        return lambda: self.sta.unexport_volume(
            self.ctxt,
            vol.storage_node,
            vol.id,
            timeout=CONF.scheduler.agent_call_timeout,
        )


class DetachVolumeFlow(_AttachmentFlow):
    action = "detach"

    def run_steps(self) -> None:
        if not self.begin():
            return
        vol = self.record
        if vol is not None and vol.status == "available":
            # Its instance was deleted before this ran (or while the
            # scheduler running it was dead) and gave it back: detached.
            why = vol.status_reason
            with db_engine.session() as s:
                self.note(
                    "check",
                    f"already detached ({why})" if why else "already detached",
                )
                self.finish(s)
            return
        if not self.in_state("detaching"):
            return
        with db_engine.session() as s:
            inst = (
                s.get(models.Instance, vol.instance_id)
                if vol.instance_id
                else None
            )
            host = (
                inst.host
                if inst is not None and inst.status != "terminated"
                else None
            )
        try:
            if host is not None:
                self.hva_call("detach", host, "detach_volume", inst.id, vol.id)
        except StepFailed as e:
            # The guest still has the disk: so does the volume's record.
            self.end("attached", e.step, e.message)
            return
        try:
            self.agent_call(
                "unexport", vol.storage_node, "unexport_volume", vol.id
            )
        except StepFailed as e:
            self.end("error", e.step, e.message, **DETACHED)
            return
        self.land(**DETACHED)


def held_volumes(s, instance_id: str) -> list[models.Volume]:
    """The data volumes an instance holds (its delete gives them back)."""
    V = models.Volume
    return list(
        s.scalars(
            sa.select(V).where(
                V.instance_id == instance_id,
                V.root_of.is_(None),
                V.status.in_(HELD),
            )
        )
    )


def release_instance_volumes(flow, sta, vols: list[models.Volume]) -> None:
    """In the delete of an instance, once its guest is destroyed: every
    data volume it had (held_volumes, read after the destroy) goes back to
    available (unexported, kept). An attach still in flight finds its
    volume released and undoes itself."""
    V = models.Volume
    for vol in vols:
        if sta is not None and vol.storage_node:
            unexport(flow, sta, vol)
        with db_engine.session() as s:
            flow.flush(s)
            s.execute(
                sa.update(V)
                .where(V.id == vol.id, V.status.in_(HELD))
                .values(
                    status="available",
                    status_reason=(
                        f"released: instance {flow.instance_id} deleted"
                    ),
                    updated_at=models.utcnow(),
                    **DETACHED,
                )
            )


def unexport(flow, sta, vol: models.Volume) -> None:
    """The released volume's export, asked until its node answers; a node
    that is down does not hold up the delete: its agent's resync removes
    the exports nobody expects (rebuild_exports) when it returns."""
    node = vol.storage_node
    try:
        with flow.step("release-volume", host=node):
            flow.call_timeout("release-volume")
            flow.checkpoint()
            try:
                flow.ask(
                    "release-volume",
                    node,
                    sta.unexport_volume,
                    vol.id,
                    down=sta_down(node),
                )
            except Exception as e:
                if refusal(e) != "VolumeNotFound":
                    raise
    except StepFailed as e:
        if not isinstance(e.__cause__, HostDown):
            raise
        flow.note(
            "release-volume",
            f"{node} is down: its agent drops the export of {vol.id} "
            "when it returns",
        )


FLOWS = {
    ("volume", "attach"): AttachVolumeFlow,
    ("volume", "detach"): DetachVolumeFlow,
}
