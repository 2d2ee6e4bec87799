"""An instance's security groups replaced (PUT /v1/instances/{id}/
security_groups), applied live.

The API has written the new membership and this task in one commit. The
flow then
- `apply`: re-renders the instance's chains on its host (hva
  refresh_ports with its port specs as they are now: its groups' rules and
  the members of every group they involve), asked again while the host is
  up;
- `members`: sends the new member sets of the groups it left and joined
  (and of the groups whose rules name them) to every host with a member
  (security_groups.announce_members: casts; a set is replaced whole).

The instance itself does not change state. A failed `apply` fails the task
(the members are still sent: the records are the truth); the groups stay
as asked, and the same PUT again applies them. A task resumed without the
groups the instance left (a lost cast, an adopted task) sends the members
of every group of its account: more than needed, never less.
"""

import sqlalchemy as sa
from oslo_log import log

from arame.common import secgroups_db
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.flows import liveness
from arame.scheduler.flows.base import StepFailed, TaskFlow
from arame.scheduler.flows.security_groups import announce_members

LOG = log.getLogger(__name__)

# An instance on its way out needs no rules: its delete removes them.
GOING = ("shuttingdown", "terminated")


class InstanceSecurityGroupsFlow(TaskFlow):
    action, kind = "update_security_groups", "instance"

    def __init__(
        self,
        ctxt,
        task_id: str,
        instance_id: str,
        hva,
        previous: list[str] | None = None,
    ):
        super().__init__(ctxt, task_id, instance_id)
        self.hva = hva
        self.previous = previous
        self.instance: models.Instance | None = None
        self.specs: list[dict] = []
        self.groups: list[str] = []

    @property
    def instance_id(self) -> str:
        return self.resource_id

    def load(self, s) -> None:
        self.instance = s.get(models.Instance, self.instance_id)
        if self.instance is None:
            return
        self.groups = secgroups_db.groups_for_instance(s, self.instance_id)
        self.specs = secgroups_db.port_specs_for_instance(s, self.instance_id)
        if self.previous is None:
            SG = models.SecurityGroup
            self.previous = list(
                s.scalars(
                    sa.select(SG.id).where(
                        SG.account_id == self.instance.account_id
                    )
                )
            )

    def run(self) -> None:
        if not self.begin():
            return
        inst = self.instance
        if inst is None or inst.status in GOING:
            with db_engine.session() as s:
                self.note("apply", "the instance is being deleted")
                self.finish(s)
            return
        failed = None
        if inst.host is None or inst.provider != "vm" or not self.specs:
            # No filtered port: nothing on a host to change.
            self.note("apply", "no port on a hypervisor to filter")
        else:
            try:
                with self.step("apply", host=inst.host):
                    self.checkpoint()
                    self.ask(
                        "apply",
                        inst.host,
                        self.hva.refresh_ports,
                        self.instance_id,
                        self.specs,
                        down=liveness.hypervisor_down(inst.host),
                    )
            except StepFailed as e:
                failed = e
        with self.step("members"):
            self.checkpoint()
            announce_members(
                self.ctxt,
                self.hva,
                set(self.previous or ()) | set(self.groups),
            )
        if failed is not None:
            self.fail(
                failed.step,
                f"{failed.message} (the groups are recorded; repeat the "
                "request to apply them)",
            )
            return
        with db_engine.session() as s:
            self.finish(s)
