"""Beginning a host's evacuation: the records both the API (by hand) and
the scheduler's periodic ([ha] auto_evacuate) make, in the caller's
transaction; the caller casts the tasks after its commit.

A host may be evacuated when it is down (no report for [DEFAULT]
service_down_time) and can be fenced: every storage node that exports a
volume to one of its instances is up to revoke its initiator (the flows
fence; here we only refuse what they could not). Each `ha_enabled`
instance on it gets an `evacuate` task and moves to `evacuating` by a
compare-and-set, so asking again while it is evacuated adds nothing;
any other is put in `error`, saying why it stays.
"""

import dataclasses
import datetime as dt

import sqlalchemy as sa

from arame.common import exceptions, tasks
from arame.common.conf import CONF
from arame.common.db import models

H, I, T, V = models.Host, models.Instance, models.Task, models.Volume
HE, IE = models.HostEvacuation, models.InstanceEvacuation

ACTION = "evacuate"
ACTIVE = ("queued", "running")
# The states an evacuation takes an instance from (states.INSTANCE_TASKS).
FROM = ("running", "stopped", "error")


def stale(last: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    if last is None:
        return True
    now = now or models.utcnow()
    return (now - last).total_seconds() > CONF.service_down_time


def not_ha_reason(host: str) -> str:
    return f"host {host} is down; not evacuated: ha_enabled is false"


def fenced(ev: models.HostEvacuation | None, host: models.Host) -> bool:
    """A fence counts while the host has not reported since it."""
    return (
        ev is not None
        and ev.fenced_at is not None
        and (host.last_report_at is None or ev.fenced_at > host.last_report_at)
    )


def fence_blockers(s, host: models.Host) -> list[str]:
    """Storage nodes that export to this host's instances and are down:
    they cannot revoke its initiator, so its guests cannot move safely."""
    if not host.storage_address:
        return []
    nodes = s.scalars(
        sa.select(V.storage_node)
        .join(I, I.id == V.instance_id)
        .where(
            I.host == host.name,
            V.status != "deleted",
            V.export_iqn.is_not(None),
            V.storage_node.is_not(None),
        )
        .distinct()
    ).all()
    down = []
    for node in sorted(nodes):
        last = s.scalar(
            sa.select(models.StorageNode.reported_at).where(
                models.StorageNode.name == node
            )
        )
        if stale(last):
            down.append(node)
    return down


def check_evacuable(s, host: models.Host) -> None:
    """Conflict unless `host` is a down, fence-able hypervisor."""
    if host.provider != "vm":
        raise exceptions.Conflict(
            f"host {host.name} is a {host.provider} host: only hypervisor "
            "hosts are evacuated"
        )
    if not stale(host.last_report_at):
        raise exceptions.Conflict(
            f"host {host.name} is up (it reported within "
            f"{CONF.service_down_time} s): only a down host is evacuated",
            state="up",
        )
    blockers = fence_blockers(s, host)
    if blockers:
        raise exceptions.Conflict(
            f"host {host.name} cannot be fenced: storage node(s) "
            f"{', '.join(blockers)} export to it and are down",
            state="unfenceable",
        )


@dataclasses.dataclass
class Begun:
    host: str
    # {"instance_id", "task_id", "new": bool}
    tasks: list[dict]
    # {"instance_id", "reason"}
    not_evacuated: list[dict]

    @property
    def to_cast(self) -> list[tuple[str, str]]:
        return [
            (t["task_id"], t["instance_id"]) for t in self.tasks if t["new"]
        ]


def _host_row(s, host: models.Host, auto: bool, now) -> None:
    ev = s.get(HE, host.name)
    if ev is None:
        s.add(
            HE(
                host=host.name,
                state="evacuating",
                auto=auto,
                started_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        s.flush()
        return
    ev.state = "evacuating"
    ev.ended_at = None
    if ev.started_at is None or (
        host.last_report_at is not None and ev.started_at < host.last_report_at
    ):
        # A new outage: the last evacuation was before the host came back.
        ev.started_at = now
        ev.auto = auto
    ev.updated_at = now


def begin(
    s,
    host: models.Host,
    *,
    auto: bool = False,
    request_id: str | None = None,
) -> Begun:
    """Tasks for the host's instances (check_evacuable() first)."""
    now = models.utcnow()
    _host_row(s, host, auto, now)
    out = Begun(host.name, [], [])
    insts = s.scalars(
        sa.select(I)
        .where(
            I.host == host.name,
            I.claimed.is_(True),
            I.status.not_in(("terminated", "shuttingdown")),
        )
        .order_by(I.created_at, I.id)
    ).all()
    for inst in insts:
        running = s.scalar(
            sa.select(T.id).where(
                T.resource_id == inst.id,
                T.action == ACTION,
                T.status.in_(ACTIVE),
            )
        )
        if running is not None:
            out.tasks.append(
                {"instance_id": inst.id, "task_id": running, "new": False}
            )
            continue
        if not inst.ha_enabled:
            reason = not_ha_reason(host.name)
            s.execute(
                sa.update(I)
                .where(I.id == inst.id, I.host == host.name)
                .values(status="error", status_reason=reason, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            out.not_evacuated.append(
                {"instance_id": inst.id, "reason": reason}
            )
            continue
        if inst.status not in FROM:
            out.not_evacuated.append(
                {
                    "instance_id": inst.id,
                    "reason": f"{inst.status}: another task owns it; "
                    "evacuate again once it has ended",
                }
            )
            continue
        prior = inst.status
        rc = s.execute(
            sa.update(I)
            .where(I.id == inst.id, I.status == prior, I.host == host.name)
            .values(
                status="evacuating",
                status_reason=f"evacuating: host {host.name} is down",
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if rc != 1:
            out.not_evacuated.append(
                {"instance_id": inst.id, "reason": "changed meanwhile"}
            )
            continue
        task = tasks.create(
            s,
            account_id=inst.account_id,
            resource_id=inst.id,
            resource_type="instance",
            action=ACTION,
            timeout_s=CONF.ha.evacuate_timeout,
            request_id=request_id,
        )
        s.add(
            IE(
                task_id=task.id,
                instance_id=inst.id,
                source_host=host.name,
                prior_status=prior,
                dest_claimed=False,
                created_at=now,
                updated_at=now,
            )
        )
        out.tasks.append(
            {"instance_id": inst.id, "task_id": task.id, "new": True}
        )
    if not out.tasks:
        settle_host(s, host.name)
    return out


def settle_host(s, host: str) -> bool:
    """The host's evacuation ended once none of its tasks is active."""
    active = s.scalar(
        sa.select(sa.func.count())
        .select_from(IE)
        .join(T, T.id == IE.task_id)
        .where(IE.source_host == host, T.status.in_(ACTIVE))
    )
    if active:
        return False
    now = models.utcnow()
    rc = s.execute(
        sa.update(HE)
        .where(HE.host == host, HE.state == "evacuating")
        .values(state="ended", ended_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return rc == 1


def cast(scheduler, ctxt, begun: Begun, log) -> None:
    """After the commit. A cast the bus refuses is not lost: the sweep of
    any scheduler runs a task left queued ([scheduler] lost_cast_grace)."""
    for task_id, instance_id in begun.to_cast:
        try:
            scheduler.evacuate_instance(ctxt, task_id, instance_id)
        except Exception as e:
            log.warning(
                "evacuation of %s: cast of task %s failed (%s); the sweep "
                "will run it",
                instance_id,
                task_id,
                e,
            )
