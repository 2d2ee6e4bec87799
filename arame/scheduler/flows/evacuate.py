"""Evacuate: rebuild an `ha_enabled` instance of a down, fenced host on
another host, with the same id, ports (MAC, addresses, security groups),
keys and user data.

Steps: check (the source host is still down) -> fence (fencing.py, once
per outage) -> schedule (the normal selector without the source host; one
transaction claims the new host's capacity, moves the instance's `host`
there and gives the source host's capacity back, so the claim moves once)
-> volume (an iSCSI root volume is exported to the new host's initiator:
the same clone, its data kept) or rebuild (a local root died with its
host: a new one from the image, said in the task's history) -> spawn (hva,
the build's spawn path) -> data volumes (re-exported and attached) ->
settle (`running`, or `stopped` where it was stopped).

Durable like the build: the instance_evacuations row says whether the
claim moved, every agent call is idempotent, so a flow adopted after its
scheduler died runs the same steps again and skips what the records show
done. A failure destroys what the new host may have started and moves
the claim back (the instance is in `error` on the host it left, where an
operator may evacuate it again); a DELETE meanwhile wins.
"""

import sqlalchemy as sa
from oslo_log import log

from arame.agents.hva import messages as hva_messages
from arame.common import evacuation
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler import claims
from arame.scheduler.flows import fencing, liveness, root_volume
from arame.scheduler.flows.base import Cancelled, StepFailed
from arame.scheduler.flows.build import instance_spec
from arame.scheduler.flows.row_flow import InstanceFlow
from arame.scheduler.flows.volume_attach import connection
from arame.scheduler.host_state import RequestSpec, load_hosts

LOG = log.getLogger(__name__)

H, I, IE, V = (
    models.Host,
    models.Instance,
    models.InstanceEvacuation,
    models.Volume,
)


class HostIsUp(Exception):
    """The source host reported again: its guests stay where they are."""


def _move_capacity(s, inst, src: str, dst: str, check: bool) -> bool:
    """Take `inst`'s capacity on `dst` (only if it fits, when `check`)
    and give it back on `src`; False if it does not fit."""
    ratios = CONF.scheduler
    where = [H.name == dst]
    if check:
        where += [
            H.vcpus_used + inst.vcpus <= H.vcpus * ratios.cpu_allocation_ratio,
            H.memory_mb_used + inst.memory_mb
            <= H.memory_mb * ratios.ram_allocation_ratio,
            H.disk_gb_used + inst.disk_gb
            <= H.disk_gb * ratios.disk_allocation_ratio,
        ]
    rc = s.execute(
        sa.update(H)
        .where(*where)
        .values(
            vcpus_used=H.vcpus_used + inst.vcpus,
            memory_mb_used=H.memory_mb_used + inst.memory_mb,
            disk_gb_used=H.disk_gb_used + inst.disk_gb,
            instance_count=H.instance_count + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if rc != 1:
        return False
    claims.give_back(s, src, inst)
    return True


class EvacuateFlow(InstanceFlow):
    action = evacuation.ACTION

    def __init__(
        self,
        ctxt,
        task_id,
        instance_id,
        selector,
        hva,
        sta=None,
        power_fence: fencing.PowerFence | None = None,
    ):
        super().__init__(ctxt, task_id, instance_id)
        self.selector = selector
        self.hva = hva
        self.sta = sta
        self.power_fence = power_fence or fencing.no_power_fence
        self.evac: models.InstanceEvacuation | None = None
        self.source: str | None = None
        self.dest: str | None = None
        self.spawn_asked = False

    def load(self, s) -> None:
        super().load(s)
        self.evac = s.get(IE, self.task_id)
        if self.evac is not None:
            s.expunge(self.evac)
            self.source = self.evac.source_host
            if self.evac.dest_claimed:
                self.dest = self.evac.dest_host
        if self.instance is not None:
            s.expunge(self.instance)

    # -- run -------------------------------------------------------------
    def run(self) -> None:
        if not self.begin():
            return
        inst = self.instance
        if self.evac is None or inst is None:
            self.fail(None, "no evacuation record", resource_error=False)
            return
        if inst.status != "evacuating":
            # Deleted (or ended by the reaper) before we got to it.
            self.end(f"cancelled: instance is {inst.status}")
            return
        # A resumed flow may have spawned already: its undo destroys.
        self.spawn_asked = self.dest is not None
        try:
            self.check_down()
            fencing.fence(self, self.source, self.sta, self.power_fence)
            self.schedule(inst)
            disk = self.root(inst)
            power = self.spawn(inst, disk)
            self.attach_data_volumes(inst)
            self.settle(inst, power)
        except HostIsUp:
            self.put_back()
        except Cancelled:
            self.undo(moved_back=False)
            self.end("cancelled: instance was deleted during its evacuation")
        except StepFailed as e:
            self.undo(moved_back=True)
            self.fail(e.step, e.message)
        self.settle_host()

    def end(self, message: str) -> None:
        with db_engine.session() as s:
            self.end_task(s, "failed", None, message)

    # -- steps -----------------------------------------------------------
    def check_down(self) -> None:
        up = False
        with self.step("check", host=self.source):
            self.checkpoint()
            # Once the claim moved, the evacuation is past going back.
            if self.dest is None:
                up = not liveness.hypervisor_down(self.source)()
        if up:
            raise HostIsUp()

    def put_back(self) -> None:
        message = f"host {self.source} is up again: not evacuated"
        prior = self.evac.prior_status
        with db_engine.session() as s:
            self.transition(
                s,
                prior,
                src=("evacuating",),
                reason=message if prior == "error" else None,
            )
            self.end_task(s, "failed", "check", message)

    def schedule(self, inst: models.Instance) -> None:
        if self.dest is not None:
            self.note("schedule", f"resumed: claim already on {self.dest}")
            return
        spec = RequestSpec(
            inst.id,
            inst.account_id,
            inst.provider,
            inst.vcpus,
            inst.memory_mb,
            inst.disk_gb,
        )
        with self.step("schedule") as rec:
            with db_engine.session() as s:
                self.flush(s)
                needs_initiator = root_volume.root_volume_of(s, inst.id)
                hosts = [h for h in load_hosts(s) if h.name != self.source]
                if needs_initiator is not None:
                    with_addr = set(
                        s.scalars(
                            sa.select(H.name).where(
                                H.storage_address.is_not(None)
                            )
                        )
                    )
                    hosts = [h for h in hosts if h.name in with_addr]
            selection = self.selector.select(hosts, spec)
            if not selection.candidates:
                raise StepFailed(
                    "schedule", "no valid host: " + selection.explain()
                )
            for host in selection.candidates[: CONF.scheduler.claim_attempts]:
                if self._claim(inst, host.name):
                    self.dest = rec.host = host.name
                    break
            else:
                raise StepFailed(
                    "schedule",
                    "every candidate host was claimed by concurrent "
                    "requests; evacuate again",
                )

    def _claim(self, inst: models.Instance, dest: str) -> bool:
        """One transaction: the new host's capacity, the instance's host,
        the source's capacity back, the evacuation's record."""
        with db_engine.session() as s:
            self.flush(s)
            if not _move_capacity(s, inst, self.source, dest, check=True):
                return False  # nothing written but the history
            rc = s.execute(
                sa.update(I)
                .where(
                    I.id == inst.id,
                    I.host == self.source,
                    I.status == "evacuating",
                    I.claimed.is_(True),
                )
                .values(host=dest, updated_at=models.utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            if rc != 1:
                raise Cancelled()  # rolls the capacity back
            s.execute(
                sa.update(IE)
                .where(IE.task_id == self.task_id)
                .values(
                    dest_host=dest,
                    dest_claimed=True,
                    updated_at=models.utcnow(),
                )
            )
        return True

    def root(self, inst: models.Instance) -> dict | None:
        """The root disk the new host attaches: the same iSCSI clone, or
        None (a local root, rebuilt from the image by the spawn)."""
        with db_engine.session() as s:
            vol = root_volume.root_volume_of(s, inst.id)
            addr = s.scalar(
                sa.select(H.storage_address).where(H.name == self.dest)
            )
            if vol is not None:
                s.expunge(vol)
        if vol is None:
            self.note(
                "rebuild",
                f"local root disk lost with host {self.source}: rebuilt "
                f"from image {inst.image_id} on {self.dest} (its data "
                "since the image is gone)",
            )
            return None
        node = vol.storage_node
        with self.step("volume", host=node):
            self.checkpoint()
            if self.sta is None or not addr:
                raise StepFailed(
                    "volume",
                    f"root volume {vol.id} cannot be exported to {self.dest}"
                    " (no storage client or no initiator address)",
                )
            export = self.ask(
                "volume",
                node,
                self.sta.export_volume,
                vol.id,
                addr,
                vol.chap_user,
                vol.chap_secret,
                down=liveness.storage_node_down(node),
            )
        root_volume.record_export(vol.id, export)
        return root_volume.disk_spec(vol, export)

    def spawn(
        self, inst: models.Instance, disk: hva_messages.IscsiDisk | None
    ) -> str | None:
        with self.step("spawn", host=self.dest):
            self.call_timeout("spawn")
            self.checkpoint()
            self.spawn_asked = True
            result = self.ask(
                "spawn",
                self.dest,
                self.hva.spawn,
                instance_spec(inst, disk),
                down=liveness.hypervisor_down(self.dest),
            )
        power = result.get("power_state")
        if self.evac.prior_status == "stopped":
            with self.step("stop", host=self.dest):
                self.checkpoint()
                self.ask(
                    "stop",
                    self.dest,
                    self.hva.power_off,
                    inst.id,
                    down=liveness.hypervisor_down(self.dest),
                )
            power = "shutdown"
        return power

    def attach_data_volumes(self, inst: models.Instance) -> None:
        """Data volumes attached to it follow it: exported to the new
        host's initiator with their own CHAP, plugged again."""
        with db_engine.session() as s:
            vols = s.scalars(
                sa.select(V).where(
                    V.instance_id == inst.id,
                    V.root_of.is_(None),
                    V.status == "attached",
                )
            ).all()
            addr = s.scalar(
                sa.select(H.storage_address).where(H.name == self.dest)
            )
            for v in vols:
                s.expunge(v)
        for vol in vols:
            with self.step("data-volume", host=self.dest):
                self.checkpoint()
                if self.sta is None or not addr:
                    raise StepFailed(
                        "data-volume",
                        f"volume {vol.id} cannot follow to {self.dest}",
                    )
                export = self.ask(
                    "data-volume",
                    vol.storage_node,
                    self.sta.export_volume,
                    vol.id,
                    addr,
                    vol.chap_user,
                    vol.chap_secret,
                    down=liveness.storage_node_down(vol.storage_node),
                )
                self.ask(
                    "data-volume",
                    self.dest,
                    self.hva.attach_volume,
                    inst.id,
                    connection(vol, export, vol.chap_user, vol.chap_secret),
                    down=liveness.hypervisor_down(self.dest),
                )

    def settle(self, inst: models.Instance, power: str | None) -> None:
        # A stopped instance lands stopped; one in error is brought back.
        final = "stopped" if self.evac.prior_status == "stopped" else "running"
        with db_engine.session() as s:
            if not self.transition(
                s,
                final,
                src=("evacuating",),
                power_state=power,
            ):
                raise Cancelled()
            self.finish(s)
        LOG.info(
            "instance %s evacuated from %s to %s",
            self.instance_id,
            self.source,
            self.dest,
        )

    # -- undo ------------------------------------------------------------
    def undo(self, moved_back: bool) -> None:
        """Destroy what the new host may run; with `moved_back`, the claim
        goes back to the source host (the instance stays there, in error).
        A delete that overtook us releases the claim itself."""
        if self.dest is None:
            return
        if self.spawn_asked:
            try:
                with self.step("undo-spawn", host=self.dest):
                    self.checkpoint()
                    self.hva.destroy(
                        self.ctxt,
                        self.dest,
                        self.instance_id,
                        timeout=CONF.scheduler.agent_call_timeout,
                    )
            except StepFailed:
                # The claim stays on the new host: the guest may be there.
                return
        if not moved_back:
            return
        with db_engine.session() as s:
            self.flush(s)
            inst = s.get(I, self.instance_id)
            if inst is None or inst.host != self.dest:
                return
            rc = s.execute(
                sa.update(I)
                .where(I.id == inst.id, I.host == self.dest)
                .values(host=self.source, updated_at=models.utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            if rc == 1:
                _move_capacity(s, inst, self.dest, self.source, check=False)
                s.execute(
                    sa.update(IE)
                    .where(IE.task_id == self.task_id)
                    .values(dest_claimed=False, updated_at=models.utcnow())
                )

    def settle_host(self) -> None:
        if self.source is None:
            return
        try:
            with db_engine.session() as s:
                evacuation.settle_host(s, self.source)
        except Exception:
            LOG.exception("settling the evacuation of %s", self.source)
