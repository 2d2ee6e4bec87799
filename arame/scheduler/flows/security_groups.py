"""Security groups on the hosts: live changes of rules and of membership.

- A group's rules changed (PATCH): every host with a member re-renders the
  members' chains, one step per host, as the task: one call per host
  carrying all its members (`refresh_host_ports`, applied there as one
  batch of restores); an hva older than 1.4 is asked `refresh_ports` per
  member instead.
- A group's members changed (an instance was built or terminated): every
  host with a member of the group, or of a group whose rules name it, gets
  the new address set (`update_group_members`, a cast: the ipset is
  replaced whole, so a repeat or a late delivery does no harm).
"""

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_log import log

from arame.common import secgroups_db
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.flows import liveness
from arame.scheduler.flows.base import StepFailed, TaskFlow

LOG = log.getLogger(__name__)


def announce_members(ctxt, hva, group_ids) -> None:
    """Tell every concerned host the current members of these groups."""
    with db_engine.session() as s:
        told = members_to_tell(s, group_ids)
    tell_members(ctxt, hva, told)


def members_to_tell(s, group_ids) -> list[tuple[str, str, list[str]]]:
    """What announce_members sends, read in the caller's transaction (a
    flow's last, so that it costs no transaction of its own): (host,
    group, addresses) for every concerned host."""
    group_ids = sorted(set(group_ids))
    if not group_ids:
        return []
    concerned = set(group_ids)
    for gid in group_ids:
        concerned.update(secgroups_db.groups_referencing(s, gid))
    hosts = secgroups_db.hosts_to_tell(s, concerned)
    if not hosts:
        return []
    addresses = secgroups_db.member_addresses(s, group_ids)
    return [
        (host, gid, addresses.get(gid, []))
        for host in sorted(hosts)
        for gid in group_ids
    ]


def tell_members(ctxt, hva, told) -> None:
    """The casts, after the commit that made the membership true."""
    for host, gid, addresses in told:
        try:
            hva.update_group_members(ctxt, host, gid, addresses)
        except Exception:
            # The next change of the group sends the whole set again.
            LOG.exception("could not send members of %s to %s", gid, host)


def member_specs(s, instance_ids) -> dict[str, list[dict]]:
    """{instance id: secgroups_db.port_specs_for_instance(s, id)} for many
    instances in five queries, not five per instance: a group with 50
    members on a host took 0.3-0.8 s to load one by one, before the host
    was asked anything."""
    iids = sorted(set(instance_ids))
    if not iids:
        return {}
    P, N, SG = models.Port, models.Network, models.SecurityGroup
    ports: dict[str, list] = {i: [] for i in iids}
    for p in s.scalars(
        sa.select(P).where(P.instance_id.in_(iids)).order_by(P.id)
    ):
        ports[p.instance_id].append(p)
    net_ids = {p.network_id for ps in ports.values() for p in ps}
    nets = (
        {n.id: n for n in s.scalars(sa.select(N).where(N.id.in_(net_ids)))}
        if net_ids
        else {}
    )
    gids = secgroups_db.groups_by_instance(s, iids)
    wanted = {g for gs in gids.values() for g in gs}
    rows = (
        {g.id: g for g in s.scalars(sa.select(SG).where(SG.id.in_(wanted)))}
        if wanted
        else {}
    )
    involved = set(rows)
    for g in rows.values():
        involved |= secgroups_db.referenced_groups(g.rules)
    addresses = secgroups_db.member_addresses(s, involved)
    out = {}
    for iid in iids:
        groups = [
            {
                "id": g,
                "rules": list(rows[g].rules),
                "revision": rows[g].revision,
            }
            for g in gids[iid]
            if g in rows
        ]
        mine = set(g["id"] for g in groups)
        for g in groups:
            mine |= secgroups_db.referenced_groups(g["rules"])
        out[iid] = [
            _spec(nets[p.network_id], p, groups, addresses, mine)
            for p in ports[iid]
        ]
    return out


def _spec(n, p, groups, addresses, involved) -> dict:
    # The form of secgroups_db.port_specs_for_instance, field for field.
    return {
        "network": {
            "id": n.id,
            "segmentation": n.segmentation,
            "segment_id": n.segment_id,
            "mtu": n.mtu,
            "cidr": n.cidr,
            "gateway": n.gateway,
            "dns_domain": n.dns_domain,
        },
        "ip": p.ip_address,
        "mac": p.mac_address,
        "hostname": p.hostname,
        "security_groups": [dict(g) for g in groups],
        "group_members": {g: list(addresses[g]) for g in sorted(involved)},
    }


def shared(members: dict[str, list[dict]]) -> tuple[dict, dict, dict]:
    """refresh_host_ports' arguments from member_specs: each group's
    rules and members once, the ports naming them (hva's manager puts
    them back)."""
    groups: dict[str, list] = {}
    addresses: dict[str, list] = {}
    slim: dict[str, list[dict]] = {}
    for iid, ports in members.items():
        slim[iid] = []
        for p in ports:
            for g in p["security_groups"]:
                groups[g["id"]] = g["rules"]
            addresses.update(p["group_members"])
            slim[iid].append(
                {
                    **p,
                    "security_groups": [
                        {"id": g["id"]}
                        | (
                            {"revision": g["revision"]}
                            if "revision" in g
                            else {}
                        )
                        for g in p["security_groups"]
                    ],
                    "group_members": sorted(p["group_members"]),
                }
            )
    return slim, groups, addresses


def _older_agent(e: Exception) -> bool:
    """The host's hva predates the call's version (it answers
    UnsupportedVersion, as a RemoteError when the exception's module is
    not one the client rebuilds)."""
    return isinstance(e, messaging.UnsupportedVersion) or (
        isinstance(e, messaging.RemoteError)
        and e.exc_type == "UnsupportedVersion"
    )


class RefreshSecurityGroupFlow(TaskFlow):
    """One `apply` step per host with a member (one call carrying all the
    host's members), asked again while the host is up and does not answer; a host that fails does not stop the others,
    and the task fails with the first host's reason. Adopted from a
    scheduler that died, it applies on the hosts that attempt had not
    done (the rules it rendered there are still the group's: a change
    since is a task of its own)."""

    action, kind = "update", "security group"

    def __init__(self, ctxt, task_id: str, group_id: str, hva):
        super().__init__(ctxt, task_id, group_id)
        self.hva = hva
        self.targets: dict[str, list[str]] = {}
        self.specs: dict[str, list] = {}
        self.applied: set[str] = set()  # hosts an earlier attempt did

    @property
    def group_id(self) -> str:
        return self.resource_id

    def load(self, s) -> None:
        if self.adopted:
            task = s.get(models.Task, self.task_id)
            self.applied = {
                e.host
                for e in task.events
                if e.step == "apply" and e.status == "done"
            }
        self.targets = secgroups_db.hosts_with_members(s, self.group_id)
        self.specs = member_specs(
            s, [iid for iids in self.targets.values() for iid in iids]
        )

    def run(self) -> None:
        if not self.begin():
            return
        failed = None
        for host, iids in sorted(self.targets.items()):
            if host in self.applied:
                continue
            try:
                with self.step("apply", host=host):
                    self.checkpoint()
                    down = liveness.hypervisor_down(host)
                    self._apply(host, iids, down)
            except StepFailed as e:
                failed = failed or ("apply", f"{host}: {e.message}")
            self.checkpoint()
        if failed:
            self.fail(*failed)
            return
        with db_engine.session() as s:
            if not self.targets:
                self.note("apply", "no member on any host")
            self.finish(s)

    def _apply(self, host: str, iids: list[str], down) -> None:
        members = {iid: self.specs[iid] for iid in iids}
        try:
            self.ask(
                "apply",
                host,
                self.hva.refresh_host_ports,
                *shared(members),
                down=down,
            )
            return
        except Exception as e:
            if not _older_agent(e):
                raise
        LOG.info("%s: hva before 1.4, refreshing member by member", host)
        for iid in iids:
            self.ask(
                "apply",
                host,
                self.hva.refresh_ports,
                iid,
                members[iid],
                down=down,
            )
