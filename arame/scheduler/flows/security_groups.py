"""Security groups on the hosts: live changes of rules and of membership.

- A group's rules changed (PATCH): every host with a member re-renders the
  members' chains (`refresh_ports`), one step per host, as the task.
- A group's members changed (an instance was built or terminated): every
  host with a member of the group, or of a group whose rules name it, gets
  the new address set (`update_group_members`, a cast: the ipset is
  replaced whole, so a repeat or a late delivery does no harm).
"""

import time

import sqlalchemy as sa
from oslo_log import log

from arame.common import secgroups_db, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.flows.base import describe_rpc_error

LOG = log.getLogger(__name__)


def announce_members(ctxt, hva, group_ids) -> None:
    """Tell every concerned host the current members of these groups."""
    group_ids = sorted(set(group_ids))
    if not group_ids:
        return
    with db_engine.session() as s:
        addresses = secgroups_db.member_addresses(s, group_ids)
        hosts: set[str] = set()
        for gid in group_ids:
            for g in [gid] + list(secgroups_db.groups_referencing(s, gid)):
                hosts.update(secgroups_db.hosts_with_members(s, g))
        # The fake hypervisor filters nothing: scale runs with hundreds of
        # fake hosts must not pay a message per host per build.
        H = models.Host
        hosts -= set(
            s.scalars(
                sa.select(H.name).where(
                    H.name.in_(sorted(hosts)), H.hypervisor_type == "fake"
                )
            )
        )
    for host in sorted(hosts):
        for gid in group_ids:
            try:
                hva.update_group_members(
                    ctxt, host, gid, addresses.get(gid, [])
                )
            except Exception:
                # The next change of the group sends the whole set again.
                LOG.exception("could not send members of %s to %s", gid, host)


class RefreshSecurityGroupFlow:
    def __init__(self, ctxt, task_id: str, group_id: str, hva):
        self.ctxt = ctxt
        self.task_id = task_id
        self.group_id = group_id
        self.hva = hva

    def run(self) -> None:
        with db_engine.session() as s:
            if not tasks.set_status(s, self.task_id, "running"):
                return
            targets = secgroups_db.hosts_with_members(s, self.group_id)
            specs = {
                iid: secgroups_db.port_specs_for_instance(s, iid)
                for iids in targets.values()
                for iid in iids
            }
        failed = None
        for host, iids in sorted(targets.items()):
            t0 = time.monotonic()
            message = None
            try:
                for iid in iids:
                    self.hva.refresh_ports(
                        self.ctxt,
                        host,
                        iid,
                        specs[iid],
                        timeout=CONF.scheduler.agent_call_timeout,
                    )
            except Exception as e:
                message = describe_rpc_error(e, host)
                failed = failed or ("apply", f"{host}: {message}")
            with db_engine.session() as s:
                tasks.add_event(
                    s,
                    self.task_id,
                    "apply",
                    "failed" if message else "done",
                    host=host,
                    message=message,
                    duration_ms=round((time.monotonic() - t0) * 1000, 2),
                )
        with db_engine.session() as s:
            if failed:
                tasks.fail(s, self.task_id, *failed)
            else:
                if not targets:
                    tasks.add_event(
                        s,
                        self.task_id,
                        "apply",
                        "done",
                        message="no member on any host",
                        at=models.utcnow(),
                    )
                tasks.set_status(s, self.task_id, "done")

    def fail(self, step, message) -> None:
        with db_engine.session() as s:
            tasks.fail(s, self.task_id, step, message)
