"""Routers: an account's networks joined to each other and, through an
external network, to the outside (SNAT on the router's external address).

The API checks a change and writes it in the records (nothing is written
when a check fails), then a task has the scheduler apply the router's full
state on its L3 host (`sync_router`), or remove it (`delete_router`: the
flow deletes the records once the host has let it go).
"""

import ipaddress

import sqlalchemy as sa

from arame.api import pagination
from arame.api.errors import ServiceUnavailable
from arame.api.lookup import load_owned
from arame.api.services import floating_ips, names
from arame.api.services.scheduling import SchedulerCaster, dispatch
from arame.common import exceptions, ids, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

R, RI, N, F = (
    models.Router,
    models.RouterInterface,
    models.Network,
    models.FloatingIp,
)


def _details(s, router_ids: list[str]) -> tuple[dict, dict]:
    """({router id: [its networks]}, {router id: associated floating IPs})
    in two queries."""
    nets: dict[str, list[dict]] = {r: [] for r in router_ids}
    counts: dict[str, int] = dict.fromkeys(router_ids, 0)
    if not router_ids:
        return nets, counts
    for ri, cidr in s.execute(
        sa.select(RI, N.cidr)
        .join(N, N.id == RI.network_id)
        .where(RI.router_id.in_(router_ids))
        .order_by(RI.network_id)
    ):
        nets[ri.router_id].append(
            {"id": ri.network_id, "cidr": cidr, "address": ri.address}
        )
    for rid, n in s.execute(
        sa.select(F.router_id, sa.func.count())
        .where(
            F.router_id.in_(router_ids),
            F.kind == "floating",
            F.port_id.is_not(None),
        )
        .group_by(F.router_id)
    ):
        counts[rid] = n
    return nets, counts


def to_dicts(s, routers) -> list[dict]:
    nets, counts = _details(s, [r.id for r in routers])
    return [
        {
            "id": r.id,
            "name": r.name,
            "account_id": r.account_id,
            "status": r.status,
            "error": r.error,
            "host": r.host,
            "external_network": r.gateway_network_id,
            "external_address": r.gateway_address,
            "networks": nets[r.id],
            "floating_ips": counts[r.id],
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }
        for r in routers
    ]


def _name_taken(s, account_id: str, name: str, but: str | None = None):
    stmt = sa.select(R.id).where(R.account_id == account_id, R.name == name)
    if but is not None:
        stmt = stmt.where(R.id != but)
    return s.scalar(stmt) is not None


def _tenant_networks(
    s, account_id: str, refs: list[str], router_id: str | None
) -> list[models.Network]:
    """The networks a router of `account_id` is to join, checked one by
    one (422/409 naming the network), then together (no overlap)."""
    out: list[models.Network] = []
    for i, ref in enumerate(refs):
        field = f"networks.{i}"
        net = names.resolve(
            s,
            N,
            "network",
            ref,
            visible=sa.or_(
                N.account_id == account_id,
                N.shared.is_(True),
                N.external.is_(True),
            ),
            field=field,
        )
        if net.external:
            raise exceptions.Invalid(
                f"{field}: network {net.id} is external: give it as "
                "external_network",
                field=field,
            )
        # A shared network is its owner's to route (as the seeded
        # `default` is the admin's): the router's SNAT then serves every
        # account's guests on it, as the owner meant by sharing it.
        if net.account_id != account_id:
            raise exceptions.Invalid(
                f"{field}: network {net.id} is shared by another account: "
                "a router joins its account's own networks only",
                field=field,
            )
        if any(n.id == net.id for n in out):
            raise exceptions.Invalid(
                f"{field}: network {net.id} is given twice", field=field
            )
        if net.dhcp_address is None:
            raise exceptions.Conflict(
                f"network {net.id} was made before routers: its DHCP server "
                f"listens on its gateway {net.gateway}, which a router "
                "needs; make a new network to route",
                network_id=net.id,
            )
        holder = s.scalar(
            sa.select(RI.router_id).where(RI.network_id == net.id)
        )
        if holder is not None and holder != router_id:
            raise exceptions.Conflict(
                f"network {net.id} is already attached to router {holder}",
                network_id=net.id,
                router_id=holder,
            )
        out.append(net)
    _check_overlaps(out)
    return out


def _check_overlaps(
    nets: list[models.Network], ext: models.Network | None = None
) -> None:
    cidrs = [(n, ipaddress.ip_network(n.cidr)) for n in nets]
    for i, (a, ca) in enumerate(cidrs):
        for b, cb in cidrs[i + 1 :]:
            if ca.overlaps(cb):
                raise exceptions.Conflict(
                    f"networks {a.id} ({a.cidr}) and {b.id} ({b.cidr}) "
                    "overlap: one router cannot join both",
                    network_ids=[a.id, b.id],
                )
        if ext is not None and ca.overlaps(ipaddress.ip_network(ext.cidr)):
            raise exceptions.Conflict(
                f"network {a.id} ({a.cidr}) overlaps external network "
                f"{ext.id} ({ext.cidr})",
                network_ids=[a.id, ext.id],
            )


def _associated(s, router_id: str, network_ids=None) -> list[str]:
    """Floating IPs associated through the router (through these of its
    networks, if given)."""
    stmt = sa.select(F.id).where(
        F.router_id == router_id, F.kind == "floating", F.port_id.is_not(None)
    )
    if network_ids is not None:
        P = models.Port
        stmt = stmt.join(P, P.id == F.port_id).where(
            P.network_id.in_(list(network_ids))
        )
    return list(s.scalars(stmt.order_by(F.id).limit(10)))


class RouterService(SchedulerCaster):
    def _find(self, s, ctxt, ref: str, rule: str) -> models.Router:
        """By id, else by name in the caller's account."""
        if not ids.is_valid("router", ref):
            rid = s.scalar(
                sa.select(R.id).where(
                    R.account_id == ctxt.account_id, R.name == ref
                )
            )
            if rid is None:
                raise exceptions.NotFound(f"router {ref} not found")
            ref = rid
        return load_owned(s, ctxt, R, "router", ref, rule)

    def _task(self, s, ctxt, r: models.Router, action: str):
        return tasks.create(
            s,
            account_id=r.account_id,
            resource_id=r.id,
            resource_type="router",
            action=action,
            timeout_s=CONF.network.router_task_timeout,
            request_id=ctxt.request_id,
        )

    def _cast(self, ctxt, method: str, task_id: str, router_id: str):
        """Hand over; if the bus refuses, the task fails now and the router
        says why (error), then 503."""
        try:
            dispatch(
                lambda: getattr(self.scheduler, method)(
                    ctxt, task_id, router_id
                ),
                task_id,
                unavailable="the message bus is not reachable; the change "
                "is recorded but not applied: repeat the request",
            )
        except ServiceUnavailable:
            with db_engine.session() as s:
                s.execute(
                    sa.update(R)
                    .where(R.id == router_id)
                    .values(
                        status="error",
                        error="could not reach the scheduler",
                        updated_at=models.utcnow(),
                    )
                )
            raise

    def _attach(self, s, r: models.Router, nets) -> None:
        have = {
            ri.network_id: ri
            for ri in s.scalars(sa.select(RI).where(RI.router_id == r.id))
        }
        want = {n.id: n for n in nets}
        for nid, ri in have.items():
            if nid not in want:
                s.delete(ri)
        for nid, n in want.items():
            if nid not in have:
                s.add(
                    RI(
                        router_id=r.id,
                        network_id=nid,
                        address=n.gateway,
                        created_at=models.utcnow(),
                    )
                )
        try:
            s.flush()
        except sa.exc.IntegrityError:
            # UNIQUE(network_id): another request attached one meanwhile.
            raise exceptions.Conflict(
                "a network was attached to another router meanwhile; try again"
            ) from None

    def _set_gateway(self, s, r: models.Router, ext) -> None:
        """Release the old external address, hold one of `ext` (or none)."""
        s.execute(
            sa.delete(F)
            .where(F.id == r.id, F.kind == "gateway")
            .execution_options(synchronize_session=False)
        )
        r.gateway_network_id = r.gateway_address = None
        if ext is not None:
            row = floating_ips.allocate_address(
                s,
                ext,
                row_id=r.id,
                account_id=r.account_id,
                kind="gateway",
                router_id=r.id,
                field="external_network",
            )
            r.gateway_network_id, r.gateway_address = ext.id, row.address

    def create(self, ctxt, req) -> dict:
        with db_engine.session() as s:
            if _name_taken(s, ctxt.account_id, req.name):
                raise exceptions.Conflict(
                    f"router {req.name!r} already exists"
                )
            ext = (
                floating_ips.external_network(
                    s,
                    ctxt.account_id,
                    req.external_network,
                    "external_network",
                )
                if req.external_network is not None
                else None
            )
            nets = _tenant_networks(s, ctxt.account_id, req.networks, None)
            _check_overlaps(nets, ext)
            now = models.utcnow()
            r = R(
                id=ids.generate("router"),
                account_id=ctxt.account_id,
                name=req.name,
                status="building",
                created_at=now,
                updated_at=now,
            )
            s.add(r)
            try:
                s.flush()
            except sa.exc.IntegrityError:
                raise exceptions.Conflict(
                    f"router {req.name!r} already exists"
                ) from None
            self._attach(s, r, nets)
            self._set_gateway(s, r, ext)
            task = self._task(s, ctxt, r, "create")
            s.flush()
            out = to_dicts(s, [r])[0]
        self._cast(ctxt, "sync_router", task.id, r.id)
        out["task_id"] = task.id
        return out

    def get(self, ctxt, ref: str) -> dict:
        with db_engine.session() as s:
            return to_dicts(s, [self._find(s, ctxt, ref, "routers:get")])[0]

    def list(
        self, ctxt, *, name=None, limit=None, marker=None, sort=None
    ) -> dict:
        stmt = sa.select(R)
        if not ctxt.is_admin:
            stmt = stmt.where(R.account_id == ctxt.account_id)
        if name:
            stmt = stmt.where(pagination.name_filter(R.name, name))
        with db_engine.session() as s:
            rows, nxt = pagination.page(s, stmt, R, marker, limit, sort=sort)
            return {"items": to_dicts(s, rows), "next_marker": nxt}

    def update(self, ctxt, ref: str, req) -> dict:
        given = req.model_fields_set
        if not given:
            raise exceptions.Invalid(
                "nothing to change: give name, external_network or networks"
            )
        with db_engine.session() as s:
            r = self._find(s, ctxt, ref, "routers:update")
            if r.status == "deleting":
                raise exceptions.Conflict(f"router {r.id} is being deleted")
            if "name" in given and req.name is None:
                raise exceptions.Invalid(
                    "name: a router keeps a name", field="name"
                )
            if req.name is not None and req.name != r.name:
                if _name_taken(s, r.account_id, req.name, but=r.id):
                    raise exceptions.Conflict(
                        f"router {req.name!r} already exists"
                    )
                r.name = req.name
            ext_changes = "external_network" in given
            ext = None
            if ext_changes and req.external_network is not None:
                ext = floating_ips.external_network(
                    s, r.account_id, req.external_network, "external_network"
                )
                if ext.id == r.gateway_network_id:
                    ext_changes = False
            if ext_changes:
                held = _associated(s, r.id)
                if held:
                    raise exceptions.Conflict(
                        f"router {r.id} carries floating IPs "
                        f"({', '.join(held)}): disassociate them before its "
                        "external network changes",
                        floating_ips=held,
                    )
            if req.networks is not None:
                nets = _tenant_networks(s, r.account_id, req.networks, r.id)
                current = set(
                    s.scalars(
                        sa.select(RI.network_id).where(RI.router_id == r.id)
                    )
                )
                leaving = current - {n.id for n in nets}
                held = _associated(s, r.id, leaving) if leaving else []
                if held:
                    raise exceptions.Conflict(
                        f"floating IPs ({', '.join(held)}) are associated "
                        "through a network leaving the router: "
                        "disassociate them first",
                        floating_ips=held,
                    )
            else:
                nets = list(
                    s.scalars(
                        sa.select(N)
                        .join(RI, RI.network_id == N.id)
                        .where(RI.router_id == r.id)
                    )
                )
            final_ext = (
                ext
                if ext_changes
                else (
                    s.get(N, r.gateway_network_id)
                    if r.gateway_network_id
                    else None
                )
            )
            _check_overlaps(nets, final_ext)
            if req.networks is not None:
                self._attach(s, r, nets)
            if ext_changes:
                self._set_gateway(s, r, ext)
            r.status, r.error = "building", None
            r.updated_at = models.utcnow()
            task = self._task(s, ctxt, r, "update")
            s.flush()
            out = to_dicts(s, [r])[0]
        self._cast(ctxt, "sync_router", task.id, r.id)
        out["task_id"] = task.id
        return out

    def delete(self, ctxt, ref: str) -> dict:
        with db_engine.session() as s:
            r = self._find(s, ctxt, ref, "routers:delete")
            held = _associated(s, r.id)
            if held:
                raise exceptions.Conflict(
                    f"router {r.id} carries floating IPs "
                    f"({', '.join(held)}): disassociate them first",
                    floating_ips=held,
                )
            r.status, r.error = "deleting", None
            r.updated_at = models.utcnow()
            task = self._task(s, ctxt, r, "delete")
        self._cast(ctxt, "delete_router", task.id, r.id)
        return {"id": r.id, "task_id": task.id}
