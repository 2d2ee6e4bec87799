"""Routers on the L3 hosts: apply one's whole state, or remove it.

The API records what a router should be (its networks, its gateway, the
floating IPs through it) and makes the task; the flow never works from a
difference. SyncRouterFlow:
- `schedule`: a router with no host gets one, the up `arame-l3` with the
  fewest routers (recorded before anything is applied there, so that the
  host's resync expects it); none up: the task fails and the router is
  `error`;
- `apply`: the router's full message (arame.common.routing.router_message,
  read at this moment: a change recorded meanwhile is in it) to its
  host's apply_router, which makes the namespace exactly so; read again
  after, and sent again if it changed (apply_until_settled: concurrent
  tasks of one router cannot leave an older state last);
and lands the router `active`. Adopted after a scheduler died, or run
again, it just applies again (apply_router is idempotent).

A floating IP's task (associate, disassociate, release) on an active
router sends a delta instead (L3 1.2 add_floating_ip / remove_floating_ip:
that address's mapping as recorded now, applied to the router's spec the
agent last applied), then reads that one record again and sends it again
if it changed meanwhile, as apply_until_settled does for the whole state:
whatever order the deltas of concurrent tasks reach the agent in, the
last one to land is followed by its own check against the records. The
full state instead when the agent holds no spec of the router (it says
so), refuses the delta, or predates 1.2 (or is capped below it).

DeleteRouterFlow: `remove` on its host (a host that is down is not waited
for: its resync removes the router when it returns, the records saying
it is gone), then `records`: the router, its interfaces and its external
address go; floating IPs through it are left allocated, disassociated.
"""

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_log import log

from arame.agents.l3.rpcapi import BINARY as L3_BINARY
from arame.common import naming, routing
from arame.common.db import engine as db_engine
from arame.common.db import models, services
from arame.scheduler.flows import liveness
from arame.scheduler.flows.base import HostDown, StepFailed, TaskFlow

LOG = log.getLogger(__name__)


def l3_down(host: str):
    return liveness.service_down(L3_BINARY, host)


#: Applies of one router by one flow, at most (see apply_until_settled).
MAX_APPLIES = 5


def apply_until_settled(flow: TaskFlow, router_id: str, host: str):
    """Apply the router's recorded state on `host`, then read it again:
    changed meanwhile (another task's flow may have applied a newer state
    first, which this apply just replaced), apply again. Whatever order
    the applies of concurrent flows reach the agent in, the last to
    finish leaves the router as recorded. Returns the last message sent
    (None: the router is gone)."""
    sent = None
    for _ in range(MAX_APPLIES):
        with db_engine.session() as s:
            msg = routing.router_message(s, router_id)
            flow.flush(s)
        if msg is None or msg == sent:
            break
        flow.ask("apply", host, flow.l3.apply_router, msg, down=l3_down(host))
        sent = msg
    return sent


#: The floating IP tasks that change one mapping of their router.
DELTA_ACTIONS = ("associate", "disassociate", "release")


def recorded_mapping(s, fip_id: str, router_id: str):
    """(address, fixed address or None) of a floating IP as its router
    `router_id` should map it now; None: the address is gone."""
    F = models.FloatingIp
    row = s.execute(
        sa.select(F.address, F.fixed_address, F.router_id, F.port_id).where(
            F.id == fip_id, F.kind == "floating"
        )
    ).first()
    if row is None:
        return None
    mapped = row.router_id == router_id and row.port_id is not None
    return row.address, (row.fixed_address if mapped else None)


def apply_delta_until_settled(flow: TaskFlow, fip_id, router_id, host):
    """The floating IP's recorded mapping on `host` as a delta, read again
    after and sent again if it changed. True: done; False: the agent
    cannot take deltas or holds no spec of the router (send the full
    state)."""
    sent = None
    for _ in range(MAX_APPLIES):
        with db_engine.session() as s:
            want = recorded_mapping(s, fip_id, router_id)
            flow.flush(s)
        if want is None:
            return False  # released and gone: the full state says it
        if want == sent:
            return True
        address, fixed = want
        try:
            if fixed is None:
                out = flow.ask(
                    "apply",
                    host,
                    flow.l3.remove_floating_ip,
                    router_id,
                    address,
                    down=l3_down(host),
                )
            else:
                out = flow.ask(
                    "apply",
                    host,
                    flow.l3.add_floating_ip,
                    router_id,
                    {"address": address, "fixed_address": fixed},
                    down=l3_down(host),
                )
        except (messaging.UnsupportedVersion, messaging.RemoteError) as e:
            # Capped below 1.2 (VersionCapped, nothing sent), or an agent
            # that predates it answering so (a RemoteError when the
            # exception's module is not one the client rebuilds).
            if isinstance(e, messaging.UnsupportedVersion) or (
                e.exc_type == "UnsupportedVersion"
            ):
                return False
            raise
        if not (isinstance(out, dict) and out.get("applied") is True):
            LOG.info(
                "router %s: delta not applied on %s (%s): full state",
                router_id,
                host,
                (out or {}).get("reason") if isinstance(out, dict) else out,
            )
            return False
        sent = want
    return True


def choose_host(s) -> str | None:
    """The up L3 host with the fewest routers (by name on a tie)."""
    live = services.live_hosts(s, L3_BINARY)
    if not live:
        return None
    R = models.Router
    counts = dict(
        s.execute(
            sa.select(R.host, sa.func.count())
            .where(R.host.in_(live))
            .group_by(R.host)
        ).all()
    )
    return min(live, key=lambda h: (counts.get(h, 0), h))


class RouterFlow(TaskFlow):
    kind = "router"

    def __init__(self, ctxt, task_id: str, router_id: str, l3, nsa=None):
        super().__init__(ctxt, task_id, router_id)
        self.l3 = l3
        self.nsa = nsa
        self.status: str | None = None
        self.host: str | None = None
        self.fip_id: str | None = None  # a floating IP's task

    @property
    def router_id(self) -> str:
        return self.resource_id

    def load(self, s) -> None:
        task = s.get(models.Task, self.task_id)
        # The task's own action (create, update, associate ...) is what
        # its end announces.
        self.action = task.action
        if (
            task.resource_type == "floating_ip"
            and task.action in DELTA_ACTIONS
        ):
            self.fip_id = task.resource_id
        router = s.get(models.Router, self.router_id)
        if router is not None:
            self.status, self.host = router.status, router.host

    def mark_error(self, s, reason: str) -> None:
        R = models.Router
        s.execute(
            sa.update(R)
            .where(R.id == self.router_id, R.status != "deleting")
            .values(
                status="error", error=reason[:255], updated_at=models.utcnow()
            )
            .execution_options(synchronize_session=False)
        )


class SyncRouterFlow(RouterFlow):
    action = "update"

    def run(self) -> None:
        if not self.begin():
            return
        if self.status in (None, "deleting"):
            # A delete overtook this task: the router's own task ends it.
            with db_engine.session() as s:
                self.note("apply", f"router is {self.status or 'gone'}")
                self.finish(s)
            return
        try:
            if self.host is None:
                self._schedule()
            self._apply()
        except StepFailed as e:
            self.fail(e.step, e.message)
            return
        with db_engine.session() as s:
            R = models.Router
            s.execute(
                sa.update(R)
                .where(R.id == self.router_id, R.status != "deleting")
                .values(
                    status="active", error=None, updated_at=models.utcnow()
                )
                .execution_options(synchronize_session=False)
            )
            self.finish(s)

    def _schedule(self) -> None:
        with self.step("schedule") as rec:
            with db_engine.session() as s:
                host = choose_host(s)
                if host is None:
                    raise StepFailed("schedule", "no L3 agent is up")
                R = models.Router
                # Compare-and-set: another task of the router may have
                # placed it meanwhile; that place wins.
                s.execute(
                    sa.update(R)
                    .where(R.id == self.router_id, R.host.is_(None))
                    .values(host=host, updated_at=models.utcnow())
                    .execution_options(synchronize_session=False)
                )
                self.host = s.scalar(
                    sa.select(R.host).where(R.id == self.router_id)
                )
                if self.host is None:
                    raise StepFailed("schedule", "router is gone")
                rec.host = self.host
                self.flush(s)

    def _move_dhcp(self) -> None:
        """Before the router takes its networks' gateways: the naming
        nodes' dnsmasq leaves each gateway for the network's own DHCP
        address (else two bridges' worth of ARP answers for one address).
        Best effort: a node not told moves at its next resync."""
        # A floating IP's task changes no network's gateway.
        if self.nsa is None or self.action not in ("create", "update"):
            return
        with db_engine.session() as s:
            RI, N = models.RouterInterface, models.Network
            nets = list(
                s.scalars(
                    sa.select(N)
                    .join(RI, RI.network_id == N.id)
                    .where(RI.router_id == self.router_id)
                    .order_by(N.id)
                )
            )
            messages = [naming.network_message(n) for n in nets]
            nodes = naming.nodes(s)
        if not messages or not nodes:
            return
        for node in nodes:
            try:
                with self.step("move DHCP", host=node):
                    for msg in messages:
                        self.nsa.ensure_network(self.ctxt, node, msg)
            except Exception:  # recorded as the step's failure
                LOG.warning("%s: DHCP not moved on %s", self.router_id, node)

    def _apply(self) -> None:
        self._move_dhcp()
        with self.step("apply", host=self.host):
            if self._delta_applied():
                return
            sent = apply_until_settled(self, self.router_id, self.host)
            if sent is None:
                raise StepFailed("apply", "router is gone")

    def _delta_applied(self) -> bool:
        """A floating IP's task on a router already active on its host:
        the one mapping, not the whole state (see the module's doc)."""
        if self.fip_id is None or self.status != "active":
            return False
        return apply_delta_until_settled(
            self, self.fip_id, self.router_id, self.host
        )


class DeleteRouterFlow(RouterFlow):
    action = "delete"

    def mark_error(self, s, reason: str) -> None:
        """The router is still on its host: `error` (expected there again,
        as the records say), for a new DELETE to retry."""
        R = models.Router
        s.execute(
            sa.update(R)
            .where(R.id == self.router_id)
            .values(
                status="error", error=reason[:255], updated_at=models.utcnow()
            )
            .execution_options(synchronize_session=False)
        )

    def run(self) -> None:
        if not self.begin():
            return
        try:
            if self.status is not None and self.host is not None:
                self._remove()
        except StepFailed as e:
            self.fail(e.step, e.message)
            return
        with db_engine.session() as s:
            with self.step("records"):
                delete_records(s, self.router_id)
            self.finish(s)

    def _remove(self) -> None:
        try:
            with self.step("remove", host=self.host):
                self.checkpoint()
                self.ask(
                    "remove",
                    self.host,
                    self.l3.remove_router,
                    self.router_id,
                    down=l3_down(self.host),
                )
        except StepFailed as e:
            if not isinstance(e.__cause__, HostDown):
                raise
            self.note(
                "remove",
                f"{self.host} is down: its agent removes the router when "
                "it returns",
            )


def delete_records(s, router_id: str) -> None:
    """The router, its interfaces and its external address (given back
    to the pool); floating IPs through it stay allocated, disassociated."""
    FIP, RI, R = models.FloatingIp, models.RouterInterface, models.Router
    s.execute(
        sa.delete(FIP)
        .where(
            FIP.kind == "gateway",
            sa.or_(FIP.id == router_id, FIP.router_id == router_id),
        )
        .execution_options(synchronize_session=False)
    )
    s.execute(
        sa.update(FIP)
        .where(FIP.router_id == router_id)
        .values(
            router_id=None,
            port_id=None,
            instance_id=None,
            fixed_address=None,
            updated_at=models.utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    s.execute(
        sa.delete(RI)
        .where(RI.router_id == router_id)
        .execution_options(synchronize_session=False)
    )
    s.execute(
        sa.delete(R)
        .where(R.id == router_id)
        .execution_options(synchronize_session=False)
    )


def reapply(ctxt, l3, router_ids, timeout: float = 30) -> None:
    """Apply these routers again as recorded, best effort: one that fails
    is logged and left to its host's resync (authoritative, every
    [l3] resync_interval), which removes the stale mappings too."""
    for rid in router_ids:
        try:
            with db_engine.session() as s:
                router = s.get(models.Router, rid)
                host = router.host if router is not None else None
                msg = routing.router_message(s, rid) if host else None
            if msg is not None:
                l3.apply_router(ctxt, host, msg, timeout=timeout)
        except Exception as e:  # noqa: BLE001  (the resync repairs it)
            LOG.warning(
                "router %s not applied again (its host's resync will): %s",
                rid,
                e,
            )


def account_routers(s, account_id: str, network_id: str | None) -> list:
    """The placed, live routers of an account with a gateway (on external
    network `network_id` when known)."""
    R = models.Router
    stmt = sa.select(R.id).where(
        R.account_id == account_id,
        R.host.is_not(None),
        R.gateway_network_id.is_not(None),
        R.status != "deleting",
    )
    if network_id is not None:
        stmt = stmt.where(R.gateway_network_id == network_id)
    return list(s.scalars(stmt.order_by(R.id)))


class ReapplyRoutersFlow(TaskFlow):
    """A floating IP's task resumed after its scheduler died (or its cast
    was lost) when the records no longer say which router carried it (it
    was disassociated or released): every router of the account that may
    have carried it is applied again, each its own `apply` step, so that
    the mapping is gone wherever it was. Applying is idempotent."""

    kind = "floating IP"

    def __init__(self, ctxt, task_id: str, fip_id: str, l3):
        super().__init__(ctxt, task_id, fip_id)
        self.l3 = l3
        self.routers: list[tuple[str, str]] = []  # (router id, host)

    def load(self, s) -> None:
        task = s.get(models.Task, self.task_id)
        self.action = task.action
        fip = s.get(models.FloatingIp, self.resource_id)
        net = fip.network_id if fip is not None else None
        R = models.Router
        self.routers = [
            (rid, s.scalar(sa.select(R.host).where(R.id == rid)))
            for rid in account_routers(s, task.account_id, net)
        ]

    def run(self) -> None:
        if not self.begin():
            return
        failed = None
        for rid, host in self.routers:
            try:
                with self.step("apply", host=host):
                    apply_until_settled(self, rid, host)
            except StepFailed as e:
                failed = failed or ("apply", f"{rid}: {e.message}")
        if failed:
            self.fail(*failed, resource_error=False)
            return
        with db_engine.session() as s:
            if not self.routers:
                self.note("apply", "no router of the account to apply")
            self.finish(s)
