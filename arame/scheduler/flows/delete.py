"""Delete: remove the guest from its host, give back the claim, terminate.

Accepted in every state: the API has already moved the instance to
shuttingdown, which also cancels a build in flight (its next CAS fails).
"""

from arame.agents.hva import rpcapi as hva_rpcapi
from arame.common import ipam, naming, quotas, routing, secgroups_db
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler import claims
from arame.scheduler.flows import (
    liveness,
    root_volume,
    routers,
    security_groups,
    volume_attach,
)
from arame.scheduler.flows.base import HostDown, StepFailed
from arame.scheduler.flows.naming_steps import named_ports, naming_cleanup
from arame.scheduler.flows.row_flow import InstanceFlow


def terminate(flow: InstanceFlow, s) -> bool:
    """The end every delete shares: the instance `terminated` (which also
    clears status_reason), its quota and addresses back to the pool, all in
    the caller's commit; False if it had left the flow's states meanwhile."""
    terminated = flow.transition(
        s,
        "terminated",
        src=flow.own_states,
        power_state=None,
        terminated_at=models.utcnow(),
    )
    if terminated:
        quotas.release_instance(s, flow.instance_id)
        # Before its ports go: a floating IP names the port it forwards to.
        flow.fip_routers = routing.disassociate_instance(s, flow.instance_id)
        ipam.release_instance(s, flow.instance_id)
    return terminated


class DeleteFlow(InstanceFlow):
    instance_as_row = True
    action = "delete"

    def __init__(
        self,
        ctxt,
        task_id,
        instance_id,
        hva: hva_rpcapi.HypervisorAPI,
        nsa=None,
        sta=None,
        l3=None,
    ):
        super().__init__(ctxt, task_id, instance_id)
        self.hva = hva
        self.nsa = nsa
        self.sta = sta
        self.l3 = l3
        # Routers that carried the instance's floating IPs (terminate()).
        self.fip_routers: list[str] = []

    def first_step(self, s) -> None:
        # The take shows the destroy step (a checkpoint fewer).
        if self.instance is not None and self.instance.host is not None:
            self.enter("destroy")

    def run(self) -> None:
        if not self.begin():
            return
        inst = self.instance
        try:
            if inst.host is not None:
                self.destroy(inst)
            with db_engine.session() as s:
                held = volume_attach.held_volumes(s, inst.id)
                vol = root_volume.root_volume_of(s, inst.id)
                nodes = naming.nodes(s) if self.nsa is not None else []
                named = named_ports(s, inst.id) if nodes else []
                if nodes and not held and vol is None:
                    # Nothing between these reads and the names' removal:
                    # its checkpoint goes with them.
                    self.enter("unname")
                    self.flush(s)
            # Its data volumes stay, available again.
            volume_attach.release_instance_volumes(self, self.sta, held)
            if vol is not None and self.sta is not None:
                # After the guest is gone: nothing is logged in any more.
                with self.step("volume", host=vol.storage_node):
                    self.checkpoint()
                    self.ask(
                        "volume",
                        vol.storage_node,
                        self.sta.delete_volume,
                        vol.id,
                        down=liveness.storage_node_down(vol.storage_node),
                    )
                root_volume.mark_deleted(vol.id)
            if self.nsa is not None:
                naming_cleanup(self, nodes, ports=named)
            # The claim given back, the instance terminated and what its
            # groups' hosts are to be told, in one commit.
            with db_engine.session() as s:
                with self.step("release", host=inst.host):
                    claims.release(inst.id, session=s)
                told = []
                if terminate(self, s):
                    told = security_groups.members_to_tell(
                        s, secgroups_db.groups_for_instance(s, inst.id)
                    )
                self.finish(s)
        except StepFailed as e:
            # The guest may still exist: keep the claim, show error; a new
            # DELETE tries again.
            self.fail(e.step, e.message)
            return
        self.emit_usage("close", inst)
        security_groups.tell_members(self.ctxt, self.hva, told)
        if self.l3 is not None:
            routers.reapply(self.ctxt, self.l3, self.fip_routers)

    def destroy(self, inst) -> None:
        """Asked until hva answers (it may be restarting); a host that is
        down is not waited for: the instance is terminated in the records
        and its agent removes the guest when it returns (its resync with
        the collector, which is authoritative)."""
        try:
            with self.step("destroy", host=inst.host):
                self.checkpoint()
                self.ask(
                    "destroy",
                    inst.host,
                    self.hva.destroy,
                    inst.id,
                    down=liveness.hypervisor_down(inst.host),
                )
        except StepFailed as e:
            if not isinstance(e.__cause__, HostDown):
                raise
            self.note(
                "destroy",
                f"{inst.host} is down: its agent removes the guest when "
                "it returns",
            )
