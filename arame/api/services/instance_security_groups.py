"""PUT /v1/instances/{id}/security_groups: an instance's groups replaced,
then applied live on its host by a task
(scheduler/flows/instance_security_groups.py).

Only an instance that has its place and is not going away may change: one
being built gets the groups its request named when it starts (409 until
it is running, stopped or in a power action); one being deleted needs
none. The new membership is written with the task in one commit: a lost
cast is run by the sweep, a failed apply is repeated by the same PUT.
"""

import sqlalchemy as sa

from arame.api.lookup import load_owned
from arame.api.services import security_groups
from arame.api.services.scheduling import SchedulerCaster, dispatch
from arame.common import exceptions, secgroups_db, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

# Placed, with its ports, and not being built or deleted.
CHANGEABLE = ("running", "stopped", "stopping", "rebooting")
RULE = "instances:update_security_groups"


class InstanceSecurityGroupService(SchedulerCaster):
    def replace(self, ctxt, instance_id: str, refs: list[str]) -> dict:
        I, ISG = models.Instance, models.InstanceSecurityGroup
        with db_engine.session() as s:
            inst = load_owned(s, ctxt, I, "instance", instance_id, RULE)
            if inst.status == "terminated":
                raise exceptions.NotFound(f"instance {instance_id} not found")
            # Concurrent replacements of one instance's groups, one at a
            # time (the second reads the first's groups as the old ones).
            s.execute(sa.select(I.id).where(I.id == inst.id).with_for_update())
            s.refresh(inst)
            if inst.status not in CHANGEABLE:
                raise exceptions.Conflict(
                    f"instance {instance_id} is {inst.status}: its security "
                    "groups can change once it is running or stopped",
                    status=inst.status,
                )
            wanted = security_groups.for_instance(s, inst.account_id, refs)
            previous = secgroups_db.groups_for_instance(s, inst.id)
            s.execute(
                sa.delete(ISG)
                .where(ISG.instance_id == inst.id)
                .execution_options(synchronize_session=False)
            )
            s.flush()
            secgroups_db.set_membership(s, inst.id, wanted)
            task = tasks.create(
                s,
                account_id=inst.account_id,
                resource_id=inst.id,
                resource_type="instance",
                action="update_security_groups",
                timeout_s=CONF.network.security_group_refresh_timeout,
                request_id=ctxt.request_id,
            )
        dispatch(
            lambda: self.scheduler.update_instance_security_groups(
                ctxt, task.id, instance_id, previous
            ),
            task.id,
            unavailable="the message bus is not reachable; the groups are "
            "saved but not applied on the host: repeat the request",
        )
        return {
            "id": instance_id,
            "security_groups": wanted,
            "task_id": task.id,
        }
