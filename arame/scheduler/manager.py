"""The scheduler's RPC endpoint: each cast runs one task's flow.

Flows run on the RPC server's worker threads ([DEFAULT]
executor_thread_pool_size); a flow that raises unexpectedly still ends its
task failed, so nothing waits for the reaper that need not. A flow that
meets a database failure, or finds that another scheduler owns its task,
stops where it is: its lease lapses and a sweep (sweeper.py) adopts the
task and resumes it through resume(), on this scheduler or another.
"""

import oslo_messaging as messaging
from oslo_log import log

from arame.agents.bma import rpcapi as bma_rpcapi
from arame.agents.hva import rpcapi as hva_rpcapi
from arame.agents.l3 import rpcapi as l3_rpcapi
from arame.agents.nsa import rpcapi as nsa_rpcapi
from arame.agents.sta import rpcapi as sta_rpcapi
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler import baremetal, power_fencing
from arame.scheduler.baremetal.build import BaremetalBuildFlow
from arame.scheduler.baremetal.delete import BaremetalDeleteFlow
from arame.scheduler.baremetal.nodes import FLOWS as NODE_FLOWS
from arame.scheduler.baremetal.power import NodePower
from arame.scheduler.flows.actions import ACTIONS, ActionFlow
from arame.scheduler.flows.base import TaskFlow, gives_up
from arame.scheduler.flows.build import BuildFlow
from arame.scheduler.flows.delete import DeleteFlow
from arame.scheduler.flows.evacuate import EvacuateFlow
from arame.scheduler.flows.image_delete import ImageDeleteFlow
from arame.scheduler.flows.instance_security_groups import (
    InstanceSecurityGroupsFlow,
)
from arame.scheduler.flows.routers import (
    DeleteRouterFlow,
    ReapplyRoutersFlow,
    SyncRouterFlow,
)
from arame.scheduler.flows.security_groups import RefreshSecurityGroupFlow
from arame.scheduler.flows.volume_attach import FLOWS as ATTACHMENT_FLOWS
from arame.scheduler.flows.volumes import FLOWS as RECORD_FLOWS
from arame.scheduler.leases import Leases
from arame.scheduler.selector import HostSelector

LOG = log.getLogger(__name__)


def _baremetal(instance_id: str, provider: str | None) -> bool:
    # The API says the provider (1.7); a resumed task or an older API's
    # cast does not, and the instance says it.
    if provider is not None:
        return provider == "bm"
    return baremetal.is_baremetal(instance_id)


def _refuse(ctxt, task_id: str, resource_id: str, action: str) -> None:
    """A cast of an action no flow runs: its task ends failed as any
    other does (TaskFlow.end_task), the resource untouched."""
    flow = TaskFlow(ctxt, task_id, resource_id)
    flow.action = action
    flow.fail(None, f"unknown action {action!r}", resource_error=False)


class SchedulerManager:
    """1.0 - build_instance, delete_instance, instance_action,
    refresh_security_group
    1.1 - create_volume, delete_volume, create_snapshot, delete_snapshot
    1.2 - node_action
    1.3 - attach_volume, detach_volume
    1.4 - delete_image, update_instance_security_groups
    1.5 - sync_router, delete_router
    1.6 - evacuate_instance
    1.7 - build_instance, delete_instance, instance_action: provider"""

    target = messaging.Target(version="1.7")

    def __init__(
        self,
        selector: HostSelector | None = None,
        hva: hva_rpcapi.HypervisorAPI | None = None,
        notifier=None,
        nsa=None,
        sta=None,
        bma=None,
        leases: Leases | None = None,
        l3=None,
    ):
        self.leases = leases or Leases()
        self.selector = selector or HostSelector()
        self.hva = hva or hva_rpcapi.HypervisorAPI()
        self.nsa = nsa or nsa_rpcapi.NSAAPI()
        self.sta = sta or sta_rpcapi.STAAPI()
        self.bma = bma or bma_rpcapi.BMAAPI()
        self.l3 = l3 or l3_rpcapi.L3API()
        self.notifier = notifier
        # Cuts a down host's power before its instances move (its BMC);
        # answers None where the host has none (flows/fencing.py).
        self.power_fence = power_fencing.power_fence

    def reset(self) -> None:
        """SIGHUP: re-read the enabled filters and weighers."""
        self.selector = HostSelector()

    def _run(self, flow, adopted: bool = False) -> None:
        flow.usage_notifier = self.notifier
        flow.leases = self.leases
        flow.adopted = adopted
        try:
            flow.run()
        except Exception as e:
            if gives_up(e):
                LOG.warning(
                    "task %s stopped (%s: %s); it will be resumed",
                    flow.task_id,
                    type(e).__name__,
                    e,
                )
                return
            LOG.exception(
                "flow %s of task %s crashed", type(flow).__name__, flow.task_id
            )
            try:
                flow.fail(None, f"internal error: {type(e).__name__}: {e}")
            except Exception as e2:
                if not gives_up(e2):
                    raise
        finally:
            # Ended, or left for a sweep: either way no longer renewed.
            self.leases.drop(flow.task_id)

    def resume(self, ctxt, task, adopted: bool) -> None:
        """Run `task` (a row) that the sweep found: adopted from a
        scheduler that died (resumed from its last completed step), or
        queued with its cast lost (run from the start)."""
        kind, action, rid = task.resource_type, task.action, task.resource_id
        if kind == "instance" and action == "create":
            return self.build_instance(ctxt, task.id, rid, _adopted=adopted)
        if kind == "instance" and action == "delete":
            return self.delete_instance(ctxt, task.id, rid, _adopted=adopted)
        if kind == "instance" and action == EvacuateFlow.action:
            return self.evacuate_instance(ctxt, task.id, rid, _adopted=adopted)
        if kind == "instance" and action == InstanceSecurityGroupsFlow.action:
            # The groups it left are not in the records: all are sent.
            return self.update_instance_security_groups(
                ctxt, task.id, rid, None, _adopted=adopted
            )
        if (kind, action) == ("image", "delete"):
            return self.delete_image(ctxt, task.id, rid, _adopted=adopted)
        if kind == "instance":
            return self.instance_action(
                ctxt, task.id, rid, action, _adopted=adopted
            )
        if kind == "security_group":
            return self.refresh_security_group(
                ctxt, task.id, rid, _adopted=adopted
            )
        if kind in ("router", "floating_ip"):
            return self._resume_router(ctxt, task, adopted)
        if kind == "node":
            return self.node_action(
                ctxt, task.id, rid, action, _adopted=adopted
            )
        if (kind, action) in RECORD_FLOWS:
            return self._run_record(ctxt, kind, action, task.id, rid, adopted)
        if (kind, action) in ATTACHMENT_FLOWS:
            return self._run(
                ATTACHMENT_FLOWS[(kind, action)](
                    ctxt, task.id, rid, self.sta, self.hva
                ),
                adopted,
            )
        _refuse(ctxt, task.id, rid, action)

    def build_instance(
        self, ctxt, task_id, instance_id, provider=None, _adopted=False
    ):
        if _baremetal(instance_id, provider):
            return self._run(
                BaremetalBuildFlow(
                    ctxt, task_id, instance_id, self.bma, self.nsa, self.sta
                ),
                _adopted,
            )
        self._run(
            BuildFlow(
                ctxt,
                task_id,
                instance_id,
                self.selector,
                self.hva,
                self.nsa,
                self.sta,
            ),
            _adopted,
        )

    def delete_instance(
        self, ctxt, task_id, instance_id, provider=None, _adopted=False
    ):
        if _baremetal(instance_id, provider):
            return self._run(
                BaremetalDeleteFlow(
                    ctxt, task_id, instance_id, self.bma, self.nsa, self.sta
                ),
                _adopted,
            )
        self._run(
            DeleteFlow(
                ctxt,
                task_id,
                instance_id,
                self.hva,
                self.nsa,
                self.sta,
                l3=self.l3,
            ),
            _adopted,
        )

    def refresh_security_group(self, ctxt, task_id, group_id, _adopted=False):
        self._run(
            RefreshSecurityGroupFlow(ctxt, task_id, group_id, self.hva),
            _adopted,
        )

    def instance_action(
        self, ctxt, task_id, instance_id, action, provider=None, _adopted=False
    ):
        if action not in ACTIONS:
            return _refuse(ctxt, task_id, instance_id, action)
        agent = (
            NodePower(self.bma)
            if _baremetal(instance_id, provider)
            else self.hva
        )
        self._run(
            ActionFlow(ctxt, task_id, instance_id, action, agent), _adopted
        )

    # -- volumes and snapshots (flows/volumes.py) ---------------------------
    def _run_record(
        self, ctxt, kind, action, task_id, resource_id, adopted=False
    ) -> None:
        self._run(
            RECORD_FLOWS[(kind, action)](ctxt, task_id, resource_id, self.sta),
            adopted,
        )

    def create_volume(self, ctxt, task_id, volume_id):
        self._run_record(ctxt, "volume", "create", task_id, volume_id)

    def delete_volume(self, ctxt, task_id, volume_id):
        self._run_record(ctxt, "volume", "delete", task_id, volume_id)

    def create_snapshot(self, ctxt, task_id, snapshot_id):
        self._run_record(ctxt, "snapshot", "create", task_id, snapshot_id)

    def delete_snapshot(self, ctxt, task_id, snapshot_id):
        self._run_record(ctxt, "snapshot", "delete", task_id, snapshot_id)

    # -- attachments (flows/volume_attach.py) -------------------------------
    def attach_volume(self, ctxt, task_id, volume_id):
        self._run(
            ATTACHMENT_FLOWS[("volume", "attach")](
                ctxt, task_id, volume_id, self.sta, self.hva
            )
        )

    def detach_volume(self, ctxt, task_id, volume_id):
        self._run(
            ATTACHMENT_FLOWS[("volume", "detach")](
                ctxt, task_id, volume_id, self.sta, self.hva
            )
        )

    # -- images and security groups of an instance -------------------------
    def delete_image(self, ctxt, task_id, image_id, _adopted=False):
        self._run(
            ImageDeleteFlow(ctxt, task_id, image_id, self.sta, self.hva),
            _adopted,
        )

    def update_instance_security_groups(
        self, ctxt, task_id, instance_id, previous, _adopted=False
    ):
        self._run(
            InstanceSecurityGroupsFlow(
                ctxt, task_id, instance_id, self.hva, previous
            ),
            _adopted,
        )

    # -- routers and floating IPs (flows/routers.py) ------------------------
    def sync_router(self, ctxt, task_id, router_id, _adopted=False):
        self._run(
            SyncRouterFlow(ctxt, task_id, router_id, self.l3, self.nsa),
            _adopted,
        )

    def delete_router(self, ctxt, task_id, router_id, _adopted=False):
        self._run(
            DeleteRouterFlow(ctxt, task_id, router_id, self.l3), _adopted
        )

    def _resume_router(self, ctxt, task, adopted: bool) -> None:
        """A router's task runs its flow again from the start (applying
        is idempotent). A floating IP's task applies the router that
        carries it now; one carried by none any more (disassociated,
        released) applies every router of the account that may have."""
        rid = task.resource_id
        if task.resource_type == "floating_ip":
            with db_engine.session() as s:
                fip = s.get(models.FloatingIp, rid)
                rid = fip.router_id if fip is not None else None
            if rid is None:
                return self._run(
                    ReapplyRoutersFlow(
                        ctxt, task.id, task.resource_id, self.l3
                    ),
                    adopted,
                )
        if task.resource_type == "router" and task.action == "delete":
            return self.delete_router(ctxt, task.id, rid, _adopted=adopted)
        return self.sync_router(ctxt, task.id, rid, _adopted=adopted)

    # -- bare-metal nodes (baremetal/nodes.py) ------------------------------
    def node_action(self, ctxt, task_id, node_id, action, _adopted=False):
        if action not in NODE_FLOWS:
            return _refuse(ctxt, task_id, node_id, action)
        self._run(
            NODE_FLOWS[action](ctxt, task_id, node_id, self.bma), _adopted
        )

    # -- evacuation (flows/evacuate.py) -------------------------------------
    def evacuate_instance(self, ctxt, task_id, instance_id, _adopted=False):
        self._run(
            EvacuateFlow(
                ctxt,
                task_id,
                instance_id,
                self.selector,
                self.hva,
                self.sta,
                power_fence=self.power_fence,
            ),
            _adopted,
        )
