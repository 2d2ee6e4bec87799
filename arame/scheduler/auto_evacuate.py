"""Automatic evacuation ([ha] auto_evacuate): every
[ha] auto_evacuate_interval one scheduler, the holder of the
`auto-evacuate` leader lease (a compare-and-set row, as task leases are),
looks for hypervisor hosts that missed their heartbeats and are not in
maintenance, and evacuates them as `arame host evacuate` does, never
more than [ha] max_hosts_evacuating at once: a partition that makes half
the cloud look down moves at most that many hosts' guests.

A host is evacuated once per outage: one whose last evacuation began
after its last report is left alone (an operator evacuates it again by
hand if its tasks failed).
"""

import datetime as dt

import sqlalchemy as sa
from oslo_log import log

from arame.common import context, evacuation, exceptions
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.common.db import retry as db_retry
from arame.common.service import PeriodicComponent

LOG = log.getLogger(__name__)

LEASE = "auto-evacuate"
L, H, HE = models.LeaderLease, models.Host, models.HostEvacuation


def take_lease(owner: str, now: dt.datetime | None = None) -> bool:
    """Hold (or renew) the leader lease for a few intervals; False while
    another live scheduler holds it."""
    now = now or models.utcnow()
    until = now + dt.timedelta(seconds=3 * CONF.ha.auto_evacuate_interval)
    with db_engine.session() as s:
        rc = s.execute(
            sa.update(L)
            .where(
                L.name == LEASE,
                sa.or_(
                    L.owner == owner,
                    L.lease_until.is_(None),
                    L.lease_until < now,
                ),
            )
            .values(owner=owner, lease_until=until)
            .execution_options(synchronize_session=False)
        ).rowcount
        if rc == 1:
            return True
        if s.get(L, LEASE) is not None:
            return False
    try:
        with db_engine.session() as s:
            s.add(L(name=LEASE, owner=owner, lease_until=until))
        return True
    except sa.exc.IntegrityError:
        return False  # another scheduler made it first


def _candidates(s, now: dt.datetime) -> list[models.Host]:
    cutoff = now - dt.timedelta(seconds=CONF.service_down_time)
    hosts = s.scalars(
        sa.select(H)
        .where(
            H.provider == "vm",
            H.maintenance.is_(False),
            sa.or_(H.last_report_at.is_(None), H.last_report_at < cutoff),
        )
        .order_by(H.last_report_at, H.name)
    ).all()
    out = []
    for h in hosts:
        ev = s.get(HE, h.name)
        if (
            ev is not None
            and ev.started_at is not None
            and (h.last_report_at is None or ev.started_at > h.last_report_at)
        ):
            continue  # evacuated (or being evacuated) for this outage
        out.append(h)
    return out


def evacuate_down_hosts(scheduler, now: dt.datetime | None = None) -> list:
    """One round (the lease held): the hosts it began, as Begun."""
    now = now or models.utcnow()
    begun = []
    with db_engine.session() as s:
        evacuating = s.scalar(
            sa.select(sa.func.count())
            .select_from(HE)
            .where(HE.state == "evacuating")
        )
        room = CONF.ha.max_hosts_evacuating - evacuating
        candidates = _candidates(s, now)
    if candidates and room <= 0:
        LOG.warning(
            "hosts down and not evacuated: %s ([ha] max_hosts_evacuating "
            "%d reached)",
            ", ".join(h.name for h in candidates),
            CONF.ha.max_hosts_evacuating,
        )
    ctxt = context.RequestContext(
        request_id=f"req-auto-evacuate-{now:%Y%m%dT%H%M%S}",
        roles=("admin",),
    )
    for host in candidates[: max(room, 0)]:
        try:
            with db_engine.session() as s:
                h = s.get(H, host.id)
                evacuation.check_evacuable(s, h)
                b = evacuation.begin(
                    s, h, auto=True, request_id=ctxt.request_id
                )
        except exceptions.Conflict as e:
            LOG.warning("not evacuating %s: %s", host.name, e)
            continue
        LOG.warning(
            "host %s is down: evacuating %d instance(s) automatically "
            "(%d not evacuated)",
            host.name,
            len(b.tasks),
            len(b.not_evacuated),
        )
        evacuation.cast(scheduler, ctxt, b, LOG)
        begun.append(b)
    return begun


class AutoEvacuator(PeriodicComponent):
    def __init__(self, owner: str, scheduler=None):
        self.owner = owner
        self._scheduler = scheduler
        super().__init__(
            "auto-evacuate",
            self.round,
            lambda: CONF.ha.auto_evacuate_interval,
            run_first=False,
        )

    @property
    def scheduler(self):
        if self._scheduler is None:
            from arame.scheduler import rpcapi

            self._scheduler = rpcapi.SchedulerAPI()
        return self._scheduler

    def round(self) -> None:
        if not CONF.ha.auto_evacuate:
            return
        try:
            if take_lease(self.owner):
                evacuate_down_hosts(self.scheduler)
        except Exception as e:
            if not db_retry.is_transient(e):
                raise
            LOG.warning("auto-evacuate: database unavailable: %s", e)
