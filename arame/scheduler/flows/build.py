"""Build: place the instance, claim capacity, spawn it on its host.

Steps: schedule (filters, weighers, claim) -> volume (sta clones the image
into a root volume and exports it, when root_volume.py says so) -> names
(every nsa node reserves the ports' addresses) -> spawn (hva). A delete
that arrives mid-build moves the instance to shuttingdown; the next CAS of
this flow then fails and it undoes its work.
"""

import sqlalchemy as sa
from oslo_log import log

from arame.agents.hva import messages as hva_messages
from arame.agents.hva import rpcapi as hva_rpcapi
from arame.agents.nsa import rpcapi as nsa_rpcapi
from arame.common import ipam, naming, secgroups_db
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler import claims
from arame.scheduler.flows import liveness, root_volume, security_groups
from arame.scheduler.flows.base import Cancelled, StepFailed
from arame.scheduler.flows.build_base import BuildBase
from arame.scheduler.flows.naming_steps import naming_cleanup
from arame.scheduler.host_state import RequestSpec

LOG = log.getLogger(__name__)


def public_keys(s, inst: models.Instance) -> list[str]:
    """Every key pair's public key, in the order asked. A pair deleted
    since the request: the instance boots without it."""
    wanted = inst.key_pair_ids or (
        [inst.key_pair_id] if inst.key_pair_id else []
    )
    if not wanted:
        return []
    K = models.KeyPair
    found = {
        kp.id: kp.public_key
        for kp in s.scalars(sa.select(K).where(K.id.in_(wanted)))
    }
    return [found[k] for k in wanted if k in found]


def instance_spec(
    inst: models.Instance,
    root_disk: hva_messages.IscsiDisk | None = None,
    session=None,
) -> hva_messages.InstanceSpec:
    """All an agent needs to know: agents have no database access. Read
    in `session` if given (a flow's checkpoint), else in one of its own."""
    if session is None:
        with db_engine.session() as s:
            return instance_spec(inst, root_disk, s)
    s = session
    img = s.get(models.Image, inst.image_id)
    keys = public_keys(s, inst)
    image: hva_messages.ImageRef = (
        {
            "id": img.id,
            "format": img.format,
            "sha256": img.sha256,
            "size_bytes": img.size_bytes,
        }
        if img is not None
        else {"id": inst.image_id}
    )
    ports = secgroups_db.port_specs_for_instance(s, inst.id)
    return {
        "id": inst.id,
        "name": inst.name,
        "hostname": inst.hostname,
        "account_id": inst.account_id,
        # A label of the guest's metrics (hva keeps it in the domain).
        "unit_id": inst.unit_id,
        "vcpus": inst.vcpus,
        "memory_mb": inst.memory_mb,
        "disk_gb": inst.disk_gb,
        "image_id": inst.image_id,
        "image": image,
        "user_data": inst.user_data,
        "ha_enabled": inst.ha_enabled,
        "ports": ports,
        "root_disk": root_disk,
        "public_keys": keys,
    }


class BuildFlow(BuildBase):
    instance_as_row = True

    def __init__(
        self,
        ctxt,
        task_id,
        instance_id,
        selector,
        hva: hva_rpcapi.HypervisorAPI,
        nsa=None,
        sta=None,
    ):
        super().__init__(ctxt, task_id, instance_id)
        self.selector = selector
        self.hva = hva
        self.nsa = nsa
        self.sta = sta
        self.root_volume: tuple | None = None  # (volume, node)
        self.root_disk: hva_messages.IscsiDisk | None = None
        self.host = None
        self.spawn_attempted = False
        self.named_on: list[str] = []
        # (network id, MAC) registered by this flow: see naming_cleanup.
        self.named_ports: list[tuple[str, str]] = []
        # Why the schedule step, run in begin() (first_step()), placed nothing.
        self.not_placed: StepFailed | Cancelled | None = None

    def first_step(self, s) -> None:
        inst = self.instance
        if inst is not None and inst.status == "pending":
            try:
                self.schedule(s, inst)
            except (StepFailed, Cancelled) as e:
                self.not_placed = e

    def build(self, inst: models.Instance) -> None:
        if self.not_placed is not None:
            raise self.not_placed
        if self.host is None:
            # Adopted still pending: its scheduler took it and died before
            # placing it (a release that took a task in a transaction of
            # its own). Placed now, in a transaction of its own.
            with db_engine.session() as ws:
                self.schedule(ws, inst)
                self.flush(ws)
        self.prepare_root(inst)
        self.register_names(inst)
        self.spawn(inst)

    def restore(self, inst: models.Instance) -> None:
        self.host = inst.host if inst.claimed else None
        with db_engine.session() as s:
            vol = root_volume.root_volume_of(s, inst.id)
            nodes = naming.nodes(s)
        if vol is not None:
            self.root_volume = (vol, vol.storage_node)
        if inst.status != "scheduling":
            # Past placement: names may be registered and a spawn may have
            # been asked; undoing either is harmless where it was not.
            self.named_on = list(nodes)
            self.spawn_attempted = self.host is not None

    def resume_build(self, inst: models.Instance) -> None:
        """Placement is never redone (the claim is in the records); the
        root volume, the names and the spawn are asked again unless a
        previous attempt completed them (the volume's export is asked
        again for its LUN, which only the answer carries)."""
        if self.host is None:
            raise StepFailed("schedule", "resumed build holds no claim")
        if inst.status == "scheduling":
            with db_engine.session() as s:
                self.flush(s)
                if not self.transition(s, "starting", src=("scheduling",)):
                    raise Cancelled()
        self.prepare_root(inst)
        if "names" not in self.done_steps or not self.named_on:
            self.register_names(inst)
        self.spawn(inst)

    def schedule(self, ws, inst) -> None:
        """The first step, in the transaction that takes the task
        (first_step()): the read of what changed, the claim, the move to
        `starting`, the step's record and the take commit together (the
        claims/s of bench/scheduler.py is bound by round trips). A
        scheduler killed anywhere before that commit leaves the task
        queued and the instance pending and unclaimed, for the sweep to
        cast again."""
        spec = RequestSpec(
            inst.id,
            inst.account_id,
            inst.provider,
            inst.vcpus,
            inst.memory_mb,
            inst.disk_gb,
        )
        cache = self.selector.cache
        with self.step("schedule") as rec:
            # This process's host cache: only the host rows changed
            # since the last decision are read (host_cache.py).
            with cache.lock:
                cache.refresh(ws)
                selection = self.selector.select_from(cache, spec)
            if not selection.candidates:
                raise StepFailed(
                    "schedule", "no valid host: " + selection.explain()
                )
            self._claim(ws, rec, inst, selection.candidates)

    def _claim(self, ws, rec, inst, candidates) -> None:
        cache = self.selector.cache
        for host in candidates[: CONF.scheduler.claim_attempts]:
            try:
                claims.claim(
                    inst.id,
                    host.name,
                    inst.vcpus,
                    inst.memory_mb,
                    inst.disk_gb,
                    session=ws,
                    # Through `scheduling` to `starting` in the claim's
                    # one statement: nothing can see the state between.
                    status="starting",
                )
            except claims.ClaimLost:
                # Ends the attempt's transaction, so that it holds no lock
                # on a host it did not get (InnoDB keeps the row it read)
                # while it tries the next one.
                ws.rollback()
                LOG.debug("claim on %s lost a race; next host", host.name)
                # What the cache believed of it was wrong: read it again
                # so that the next decision does not retry it.
                with db_engine.session() as s, cache.lock:
                    cache.refresh_host(s, host.name)
                continue
            except claims.InstanceGone:
                # The host's update goes; the take that follows commits.
                ws.rollback()
                raise Cancelled() from None
            self.host = rec.host = host.name
            return
        raise StepFailed(
            "schedule",
            "every candidate host was "
            "claimed by concurrent requests; try again",
        )

    def prepare_root(self, inst: models.Instance) -> None:
        """Clone the image into a root volume on a storage node and export
        it to the chosen host (root_volume.py says when)."""
        p = root_volume.plan(inst, self.host) if self.sta else None
        if p is None:
            return
        img = p["image"]
        if self.root_volume is not None:
            # A resumed build's, on the node the first attempt chose.
            vol, node = self.root_volume
            located = p["image_located"] and node == p["node"]
        else:
            node, located = p["node"], p["image_located"]
            vol = root_volume.create_record(inst, node)
            self.root_volume = (vol, node)
        down = liveness.storage_node_down(node)
        with self.step("volume", host=node):
            self.checkpoint()
            if not located:
                self.ask(
                    "volume",
                    node,
                    self.sta.import_image,
                    img["id"],
                    root_volume.image_source(img["id"]),
                    img["sha256"],
                    img["size_bytes"],
                    down=down,
                )
                root_volume.record_located(img["id"], node)
            self.ask(
                "volume",
                node,
                self.sta.create_volume,
                {"id": vol.id, "size_gb": vol.size_gb, "image_id": img["id"]},
                down=down,
            )
            export = self.ask(
                "volume",
                node,
                self.sta.export_volume,
                vol.id,
                p["initiator"],
                vol.chap_user,
                vol.chap_secret,
                down=down,
            )
        root_volume.record_export(vol.id, export)
        self.root_disk = root_volume.disk_spec(vol, export)

    def register_names(self, inst: models.Instance) -> None:
        """MAC -> address + hostname on every naming node, before the guest
        boots and asks for it (dnsmasq answers only reservations)."""
        with db_engine.session() as s:
            ports = ipam.ports_for_instance(s, inst.id)
            if not ports:
                return
            nodes = naming.nodes(s)
            nets = {
                p.network_id: naming.network_message(
                    s.get(models.Network, p.network_id)
                )
                for p in ports
            }
            if nodes:
                # The first node's checkpoint, with these reads.
                self.enter("names")
                self.flush(s)
        if not nodes:
            raise StepFailed(
                "names",
                "no naming agent (arame-nsa) is up: "
                "the guest would get no address",
            )
        self.named_ports = [(p.network_id, p.mac_address) for p in ports]
        for node in nodes:
            with self.step("names", host=node):
                self.checkpoint()
                self.named_on.append(node)
                down = liveness.service_down(nsa_rpcapi.BINARY, node)
                for p in ports:
                    self.ask(
                        "names",
                        node,
                        self.nsa.name_port,
                        nets[p.network_id],
                        p.mac_address,
                        p.ip_address,
                        p.hostname,
                        down=down,
                    )

    def spawn(self, inst: models.Instance) -> None:
        with self.step("spawn", host=self.host):
            self.call_timeout("spawn")
            # The checkpoint and the read of what the spawn says, in one.
            with db_engine.session() as s:
                self.flush(s)
                spec = instance_spec(inst, self.root_disk, s)
            self.spawn_attempted = True
            result = self.ask(
                "spawn",
                self.host,
                self.hva.spawn,
                spec,
                down=liveness.hypervisor_down(self.host),
            )
        with db_engine.session() as s:
            if not self.transition(
                s,
                "running",
                src=("starting",),
                power_state=result.get("power_state"),
            ):
                raise Cancelled()
            self.finish(s)
            # Its groups gained an address: hosts filtering on them learn
            # it (read here, sent once this commits).
            told = security_groups.members_to_tell(
                s, secgroups_db.groups_for_instance(s, self.instance_id)
            )
        self.emit_usage("open", inst)
        security_groups.tell_members(self.ctxt, self.hva, told)

    def compensate(self) -> None:
        """Undo the spawn and the claim; both are idempotent."""
        if self.spawn_attempted:
            with self.step("undo-spawn", host=self.host):
                self.checkpoint()
                try:
                    # Not ask(): an undo runs past the task's deadline.
                    self.hva.destroy(
                        self.ctxt,
                        self.host,
                        self.instance_id,
                        timeout=CONF.scheduler.agent_call_timeout,
                    )
                except Exception as e:
                    # The claim stays: the guest may still be on that host.
                    # The instance ends in error and a DELETE retries.
                    raise StepFailed(
                        "undo-spawn",
                        f"could not remove the guest from {self.host}: {e}",
                    ) from e
        if self.named_on:
            naming_cleanup(self, self.named_on, self.named_ports)
        if self.root_volume is not None:
            vol, node = self.root_volume
            with self.step("undo-volume", host=node):
                self.checkpoint()
                try:
                    self.sta.delete_volume(
                        self.ctxt,
                        node,
                        vol.id,
                        timeout=CONF.scheduler.agent_call_timeout,
                    )
                except Exception as e:
                    raise StepFailed(
                        "undo-volume",
                        f"could not remove {vol.id} from {node}: {e}",
                    ) from e
            root_volume.mark_deleted(vol.id)
        if self.host is not None:
            claims.release(self.instance_id)

    def rollback(self, reason: str) -> None:
        # The reason is the task's to show: a VM host keeps no status.
        try:
            self.compensate()
        except StepFailed:
            LOG.warning(
                "build %s: compensation incomplete, claim kept",
                self.instance_id,
            )
