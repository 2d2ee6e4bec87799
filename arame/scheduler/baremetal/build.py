"""Build of a `bm` instance: claim a node, clone its root volume, tell the
naming agents how it boots, power it on.

Steps: schedule (claim a node) -> volume (sta: clone + export to the node's
own address) -> names (nsa: MAC -> address with the iPXE script that
sanboots the volume) -> boot (bma: boot device PXE, power on). The node
becomes `active`, the instance `running`. A failure undoes what was done;
the node goes back to `available` if no BMC call touched it, else to
`error` with the reason (an admin looks, then manages it again).

Every call is asked again while its agent is up and does not answer. A
build adopted from a scheduler that died resumes from the records: the
node it holds (never claimed again), its root volume on the node that
holds it, and the steps after, each asked again (all idempotent); if the
instance was deleted meanwhile, the records tell the rollback what to
undo, and whether a BMC call may have touched the node.
"""

import sqlalchemy as sa
from oslo_log import log

from arame.agents.bma import rpcapi as bma_rpcapi
from arame.agents.nsa import rpcapi as nsa_rpcapi
from arame.common import ipam, naming
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models, services
from arame.scheduler.baremetal import BaremetalFlow, claims
from arame.scheduler.flows import liveness, root_volume
from arame.scheduler.flows.base import Cancelled, StepFailed
from arame.scheduler.flows.build_base import BuildBase
from arame.scheduler.flows.naming_steps import naming_cleanup
from arame.scheduler.flows.volumes import sta_down

LOG = log.getLogger(__name__)


def boot_script(vol: models.Volume, export: dict) -> str:
    # Imported here: the boot side (arame.common.pxe) lands on its own.
    from arame.common import pxe

    return pxe.sanboot_script(
        portal=export["portal"],
        iqn=export["iqn"],
        lun=export["lun"],
        chap_user=vol.chap_user,
        chap_secret=vol.chap_secret,
    )


class BaremetalBuildFlow(BaremetalFlow, BuildBase):
    def __init__(self, ctxt, task_id, instance_id, bma, nsa, sta):
        super().__init__(ctxt, task_id, instance_id, bma, nsa, sta)
        self.node: models.BaremetalNode | None = None
        self.host: str | None = None  # the bma agent
        self.port: models.Port | None = None
        self.root_volume: tuple | None = None  # (volume, storage node)
        self.script: str | None = None
        self.named_on: list[str] = []
        # (network id, MAC) registered by this flow: see naming_cleanup.
        self.named_ports: list[tuple[str, str]] = []
        self.touched = False  # a BMC call was made

    def build(self, inst: models.Instance) -> None:
        self.schedule(inst)
        self.prepare_root(inst)
        self.register_names(inst)
        self.boot(inst)

    # -- an adopted build --------------------------------------------------
    def restore(self, inst: models.Instance) -> None:
        N = models.BaremetalNode
        with db_engine.session() as s:
            # The claim: the node this instance holds (none if a rollback
            # already gave it back).
            self.node = s.scalar(sa.select(N).where(N.instance_id == inst.id))
            ports = ipam.ports_for_instance(s, inst.id)
            self.port = ports[0] if ports else None
            vol = root_volume.root_volume_of(s, inst.id)
            names = naming.nodes(s)
            task = s.get(models.Task, self.task_id)
            # A BMC call may have been made once the boot step began (the
            # step is recorded before its first call): the rollback then
            # leaves the node to an admin, as it does for a build that ran.
            self.touched = task.step in ("boot", "undo-boot") or any(
                e.step == "boot" and e.status != "cancelled"
                for e in task.events
            )
            if self.node is not None and inst.status != "scheduling":
                self.host = inst.host or claims.bma_host(s, self.node)
        if vol is not None:
            self.root_volume = (vol, vol.storage_node)
        if inst.status != "scheduling":
            # Past placement: names may be registered; taking back one
            # that was not is harmless.
            self.named_on = list(names)

    def resume_build(self, inst: models.Instance) -> None:
        """The node is never claimed again; the root volume, the names
        and the boot are asked again (the export for its LUN, which only
        the answer carries and the boot script needs)."""
        if self.node is None:
            raise StepFailed(
                "schedule",
                "this build was being undone when the scheduler running "
                "it stopped: its node is released; delete the instance "
                "and create it again",
            )
        if inst.status == "scheduling":
            with self.step("schedule") as rec:
                rec.host = self.bind(self.node.id, self.port.id)
            self.start(inst)
        self.prepare_root(inst)
        self.register_names(inst)
        self.boot(inst)

    # -- steps -------------------------------------------------------------
    def schedule(self, inst: models.Instance) -> None:
        with self.step("schedule") as rec:
            with db_engine.session() as s:
                self.flush(s)
                ports = ipam.ports_for_instance(s, inst.id)
                found = claims.candidates(s, inst)
                why = None if found else claims.explain(s, inst)
            if not ports:
                raise StepFailed(
                    "schedule",
                    "a bare-metal instance needs a network: it boots from it",
                )
            if not found:
                raise StepFailed("schedule", "no valid node: " + why)
            for node_id in found[: CONF.scheduler.claim_attempts]:
                try:
                    claims.claim(inst.id, node_id)
                except claims.ClaimLost:
                    LOG.debug("claim on %s lost a race; next node", node_id)
                    continue
                except claims.InstanceGone:
                    raise Cancelled() from None
                break
            else:
                raise StepFailed(
                    "schedule",
                    "every candidate node was "
                    "claimed by concurrent requests; try again",
                )
            rec.host = self.bind(node_id, ports[0].id)
        self.start(inst)

    def bind(self, node_id: str, port_id: str) -> str:
        """The claimed node's agent, and its MAC on the instance's port."""
        with db_engine.session() as s:
            self.node = s.get(models.BaremetalNode, node_id)
            self.host = claims.bma_host(s, self.node)
            # The node's own NIC answers DHCP for this address.
            port = s.get(models.Port, port_id)
            port.mac_address = self.node.macs[0].lower()
            self.port = port
        if self.host is None:
            raise StepFailed(
                "schedule",
                "no bare-metal agent (arame-bma) is up to drive the node",
            )
        return self.host

    def start(self, inst: models.Instance) -> None:
        with db_engine.session() as s:
            self.flush(s)
            if not self.transition(
                s, "starting", src=("scheduling",), host=self.host
            ):
                raise Cancelled()

    def prepare_root(self, inst: models.Instance) -> None:
        """The image's clone, exported to the node's own address: the node
        is the iSCSI initiator (iPXE sanboot)."""
        with db_engine.session() as s:
            img = s.get(models.Image, inst.image_id)
            if self.root_volume is not None:
                # A resumed build's, on the node that holds it.
                nodes = [self.root_volume[1]]
            else:
                nodes = services.live_hosts(s, root_volume.STA_BINARY)
            located = (
                bool(nodes)
                and s.get(models.ImageLocation, (inst.image_id, nodes[0]))
                is not None
            )
        if img is None or img.format != "raw":
            raise StepFailed(
                "volume",
                "a bare-metal instance boots a raw "
                "disk image over iSCSI; "
                f"{inst.image_id} is not one",
            )
        if not nodes:
            raise StepFailed("volume", "no storage agent (arame-sta) is up")
        node = nodes[0]
        if self.root_volume is None:
            self.root_volume = (root_volume.create_record(inst, node), node)
        vol = self.root_volume[0]
        down = sta_down(node)
        with self.step("volume", host=node):
            self.call_timeout("volume")
            self.checkpoint()
            if not located:
                self.ask(
                    "volume",
                    node,
                    self.sta.import_image,
                    img.id,
                    root_volume.image_source(img.id),
                    img.sha256,
                    img.size_bytes,
                    down=down,
                )
                root_volume.record_located(img.id, node)
            self.ask(
                "volume",
                node,
                self.sta.create_volume,
                {"id": vol.id, "size_gb": vol.size_gb, "image_id": img.id},
                down=down,
            )
            export = self.ask(
                "volume",
                node,
                self.sta.export_volume,
                vol.id,
                self.port.ip_address,
                vol.chap_user,
                vol.chap_secret,
                down=down,
            )
            root_volume.record_export(vol.id, export)
            self.script = boot_script(vol, export)

    def register_names(self, inst: models.Instance) -> None:
        with db_engine.session() as s:
            nodes = naming.nodes(s)
            net = naming.network_message(
                s.get(models.Network, self.port.network_id)
            )
        if not nodes:
            raise StepFailed(
                "names",
                "no naming agent (arame-nsa) is up: "
                "the node would get no address",
            )
        p = self.port
        self.named_ports = [(p.network_id, p.mac_address)]
        for node in nodes:
            with self.step("names", host=node):
                self.call_timeout("names")
                self.checkpoint()
                if node not in self.named_on:
                    self.named_on.append(node)
                down = liveness.service_down(nsa_rpcapi.BINARY, node)
                self.ask(
                    "names", node, self.nsa.ensure_network, net, down=down
                )
                self.ask(
                    "names",
                    node,
                    self.nsa.add_reservation,
                    p.network_id,
                    p.mac_address,
                    p.ip_address,
                    p.hostname,
                    boot_script=self.script,
                    down=down,
                )

    def boot(self, inst: models.Instance) -> None:
        msg = self.node.bmc_message()
        with self.step("boot", host=self.host):
            self.checkpoint()
            with db_engine.session() as s:
                # A DELETE since: the node is not powered on for nothing.
                if (
                    s.scalar(
                        sa.select(models.Instance.status).where(
                            models.Instance.id == inst.id
                        )
                    )
                    != "starting"
                ):
                    raise Cancelled()
            self.touched = True
            down = liveness.service_down(bma_rpcapi.BINARY, self.host)
            self.ask(
                "boot",
                self.host,
                self.bma.set_boot_device,
                msg,
                "pxe",
                down=down,
            )
            result = self.ask(
                "boot", self.host, self.bma.power_on, msg, down=down
            )
        N = models.BaremetalNode
        with db_engine.session() as s:
            # The instance shows power as a VM's does; the node, the BMC's.
            if not self.transition(
                s, "running", src=("starting",), power_state="running"
            ):
                raise Cancelled()
            s.execute(
                sa.update(N)
                .where(N.id == self.node.id, N.instance_id == inst.id)
                .values(
                    provision_state="active",
                    power_state=result.get("power_state"),
                    updated_at=models.utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            self.finish(s)
        self.emit_usage("open", inst)

    # -- compensation ------------------------------------------------------
    def rollback(self, reason: str) -> None:
        """Undo what was done; the node ends available only if it is clean
        and no BMC call reached it."""
        clean = True
        powered_off = False
        if self.touched:
            try:
                with self.step("undo-boot", host=self.host):
                    self.checkpoint()
                    self.bma.power_off(
                        self.ctxt,
                        self.host,
                        self.node.bmc_message(),
                        timeout=CONF.scheduler.agent_call_timeout,
                    )
                powered_off = True
            except StepFailed as e:
                clean, reason = (
                    False,
                    f"{reason}; power off failed: {e.message}",
                )
        if self.named_on:
            naming_cleanup(self, self.named_on, self.named_ports)
        if self.root_volume is not None:
            vol, node = self.root_volume
            try:
                with self.step("undo-volume", host=node):
                    self.checkpoint()
                    t = CONF.scheduler.agent_call_timeout
                    # A node that is off left its iSCSI session behind
                    # in tgtd (no FIN from a dead machine): force it.
                    self.sta.unexport_volume(
                        self.ctxt, node, vol.id, timeout=t, force=powered_off
                    )
                    self.sta.delete_volume(self.ctxt, node, vol.id, timeout=t)
                root_volume.mark_deleted(vol.id)
            except StepFailed as e:
                clean, reason = (
                    False,
                    (
                        f"{reason}; root volume {vol.id} not "
                        f"removed: {e.message}"
                    ),
                )
        if self.port is not None:
            with db_engine.session() as s:
                # The node's MAC goes back to the node for its next tenant.
                port = s.get(models.Port, self.port.id)
                if port is not None:
                    port.mac_address = ipam.random_mac()
        if self.node is not None:
            ok = clean and not self.touched
            claims.release(
                self.instance_id,
                self.node.id,
                "available" if ok else "error",
                None if ok else reason,
            )
