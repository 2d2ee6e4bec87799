"""Floating IPs: addresses of an external network's pool that an account
holds (quota `floating_ips`), and their association with an instance's
address.

Allocating is a record only (201). Associating, disassociating and
releasing an associated address write the records first, then a task has
the scheduler apply the router's full state again (its flow reads the
records, so the order of two changes never matters).
"""

import sqlalchemy as sa

from arame.api import pagination
from arame.api.lookup import load_owned
from arame.api.services import names
from arame.api.services.scheduling import SchedulerCaster, dispatch
from arame.common import exceptions, ids, ipam, quotas, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

F = models.FloatingIp


def to_dict(f: models.FloatingIp, task_id: str | None = None) -> dict:
    out = {
        "id": f.id,
        "address": f.address,
        "network_id": f.network_id,
        "account_id": f.account_id,
        "instance_id": f.instance_id,
        "fixed_address": f.fixed_address,
        "router_id": f.router_id,
        "status": "active" if f.port_id is not None else "down",
        "created_at": f.created_at,
        "updated_at": f.updated_at,
    }
    if task_id is not None:
        out["task_id"] = task_id
    return out


def external_network(
    s, account_id: str, ref: str, field: str
) -> models.Network:
    """The external network `ref` (id or name) names; 422 if it names
    none the account sees, or one that is not external."""
    N = models.Network
    net = names.resolve(
        s,
        N,
        "network",
        ref,
        visible=sa.or_(
            N.external.is_(True),
            N.shared.is_(True),
            N.account_id == account_id,
        ),
        field=field,
    )
    if not net.external:
        raise exceptions.Invalid(
            f"{field}: network {net.id} is not external", field=field
        )
    return net


def _pool_address(net: models.Network, value: str, field: str) -> str:
    """The canonical form of an asked address; 422 unless the pool (the
    network's dhcp_ranges) has it."""
    try:
        a = ipam.check_fixed_address(net, value)
    except exceptions.Invalid as e:
        raise exceptions.Invalid(
            f"{field}: {value} is not in the pool of network {net.id} "
            f"({e.message.split(': ', 1)[-1]})",
            field=field,
        ) from None
    return a


def allocate_address(
    s,
    net: models.Network,
    *,
    row_id: str,
    account_id: str,
    kind: str,
    address: str | None = None,
    router_id: str | None = None,
    field: str = "address",
) -> models.FloatingIp:
    """A floating_ips row holding an address of the external network's
    pool (the one asked, or a free one), in the caller's transaction.
    409 when it is taken or the pool is exhausted."""
    fixed = _pool_address(net, address, field) if address else None
    ipam.lock_network(s, net.id)

    def taken(a: str) -> bool:
        return (
            s.scalar(
                sa.select(F.id).where(F.network_id == net.id, F.address == a)
            )
            is not None
        )

    def taken_error(a: str):
        return exceptions.Conflict(
            f"address {a} of network {net.id} is already allocated",
            network_id=net.id,
            address=a,
        )

    if fixed is not None and taken(fixed):
        raise taken_error(fixed)
    for _ in range(ipam.ATTEMPTS):
        try:
            a = fixed or ipam.free_address(
                s, net, F.address, F.network_id == net.id
            )
        except exceptions.Conflict:
            raise exceptions.Conflict(
                f"the pool of external network {net.id} is exhausted",
                network_id=net.id,
            ) from None
        now = models.utcnow()
        row = F(
            id=row_id,
            network_id=net.id,
            address=a,
            account_id=account_id,
            kind=kind,
            router_id=router_id,
            created_at=now,
            updated_at=now,
        )
        try:
            with s.begin_nested():
                s.add(row)
            return row
        except sa.exc.IntegrityError:
            if not taken(a):
                raise
            if fixed is not None:
                raise taken_error(fixed) from None
    raise exceptions.Conflict(
        f"external network {net.id}: no address could be reserved (too "
        "many concurrent requests); try again",
        network_id=net.id,
    )


def _instance(s, account_id: str, ref: str) -> models.Instance:
    """A live instance of the account by id or name; 404 otherwise (another
    account's instance is as unknown as a missing one)."""
    I = models.Instance
    live = sa.and_(I.account_id == account_id, I.status != "terminated")
    rows = []
    if ids.is_valid("instance", ref):
        rows = s.scalars(sa.select(I).where(I.id == ref, live)).all()
    if not rows:
        rows = s.scalars(
            sa.select(I).where(I.name == ref, live).order_by(I.id).limit(11)
        ).all()
    if not rows:
        raise exceptions.NotFound(f"instance {ref} not found")
    if len(rows) > 1:
        found = [r.id for r in rows[:10]]
        raise exceptions.Invalid(
            f"associate.instance: {ref!r} names more than one instance "
            f"({', '.join(found)}); give its id",
            field="associate.instance",
            candidates=found,
        )
    return rows[0]


def _port(s, inst: models.Instance, ip_address: str | None) -> models.Port:
    ports = ipam.ports_for_instance(s, inst.id)
    if ip_address is None:
        if not ports:
            raise exceptions.Conflict(f"instance {inst.id} has no address")
        return ports[0]
    for p in ports:
        if p.ip_address == ip_address:
            return p
    raise exceptions.Invalid(
        f"associate.ip_address: instance {inst.id} has no address "
        f"{ip_address}",
        field="associate.ip_address",
    )


def _router_for(s, f: models.FloatingIp, port: models.Port) -> str:
    """The router of the floating IP's account that joins the port's
    network to the floating IP's external network; 409 if none does."""
    R, RI = models.Router, models.RouterInterface
    router_id = s.scalar(
        sa.select(R.id)
        .join(RI, RI.router_id == R.id)
        .where(
            RI.network_id == port.network_id,
            R.account_id == f.account_id,
            R.gateway_network_id == f.network_id,
            R.status != "deleting",
        )
    )
    if router_id is None:
        raise exceptions.Conflict(
            f"no router of yours joins network {port.network_id} to "
            f"external network {f.network_id}",
            network_id=port.network_id,
            external_network_id=f.network_id,
        )
    return router_id


class FloatingIpService(SchedulerCaster):
    def _get(self, s, ctxt, fip_id: str, rule: str) -> models.FloatingIp:
        return load_owned(s, ctxt, F, "floating_ip", fip_id, rule)

    def _task(self, s, f: models.FloatingIp, action: str, ctxt):
        return tasks.create(
            s,
            account_id=f.account_id,
            resource_id=f.id,
            resource_type="floating_ip",
            action=action,
            timeout_s=CONF.network.router_task_timeout,
            request_id=ctxt.request_id,
        )

    def _sync(self, ctxt, task_id: str, router_id: str) -> None:
        dispatch(
            lambda: self.scheduler.sync_router(ctxt, task_id, router_id),
            task_id,
            unavailable="the message bus is not reachable; the change is "
            "recorded but not applied on the router: repeat the request",
        )

    def create(self, ctxt, req) -> dict:
        quotas.ensure_row(ctxt.account_id)
        with db_engine.session() as s:
            net = external_network(s, ctxt.account_id, req.network, "network")
            quotas.take(s, ctxt.account_id, {"floating_ips": 1})
            f = allocate_address(
                s,
                net,
                row_id=ids.generate("floating_ip"),
                account_id=ctxt.account_id,
                kind="floating",
                address=req.address,
            )
            return to_dict(f)

    def get(self, ctxt, fip_id: str) -> dict:
        with db_engine.session() as s:
            return to_dict(self._get(s, ctxt, fip_id, "floating_ips:get"))

    def list(
        self,
        ctxt,
        *,
        instance=None,
        network=None,
        limit=None,
        marker=None,
        sort=None,
    ) -> dict:
        stmt = sa.select(F).where(F.kind == "floating")
        if instance:
            stmt = stmt.where(F.instance_id == instance)
        if network:
            stmt = stmt.where(F.network_id == network)
        return pagination.scoped_page(
            ctxt,
            stmt,
            F,
            to_dict,
            account_column=F.account_id,
            marker=marker,
            limit=limit,
            sort=sort,
        )

    def associate(self, ctxt, fip_id: str, req) -> dict:
        with db_engine.session() as s:
            f = self._get(s, ctxt, fip_id, "floating_ips:action")
            inst = _instance(s, f.account_id, req.instance)
            port = _port(s, inst, req.ip_address)
            if f.port_id is not None and f.port_id != port.id:
                raise exceptions.Conflict(
                    f"floating IP {f.id} is associated with "
                    f"{f.fixed_address} of instance {f.instance_id}: "
                    "disassociate it first",
                    instance_id=f.instance_id,
                )
            other = s.scalar(
                sa.select(F.id).where(F.port_id == port.id, F.id != f.id)
            )
            if other is not None:
                raise self._port_taken(inst, port, other)
            router_id = _router_for(s, f, port)
            f.port_id, f.instance_id = port.id, inst.id
            f.fixed_address, f.router_id = port.ip_address, router_id
            f.updated_at = models.utcnow()
            try:
                s.flush()
            except sa.exc.IntegrityError:
                # UNIQUE(port_id): another request took the port meanwhile.
                raise self._port_taken(inst, port, "another") from None
            task = self._task(s, f, "associate", ctxt)
            out = to_dict(f, task.id)
        self._sync(ctxt, task.id, router_id)
        return out

    @staticmethod
    def _port_taken(inst, port, other: str):
        return exceptions.Conflict(
            f"address {port.ip_address} of instance {inst.id} already has "
            f"floating IP {other}",
            instance_id=inst.id,
        )

    def disassociate(self, ctxt, fip_id: str) -> dict:
        with db_engine.session() as s:
            f = self._get(s, ctxt, fip_id, "floating_ips:action")
            if f.port_id is None:
                raise exceptions.Conflict(
                    f"floating IP {f.id} is not associated"
                )
            router_id = f.router_id
            f.port_id = f.instance_id = f.fixed_address = f.router_id = None
            f.updated_at = models.utcnow()
            task = self._task(s, f, "disassociate", ctxt)
            out = to_dict(f, task.id)
        self._sync(ctxt, task.id, router_id)
        return out

    def action(self, ctxt, fip_id: str, req) -> dict:
        given = [
            k
            for k in ("associate", "disassociate")
            if getattr(req, k) is not None
        ]
        if len(given) != 1:
            raise exceptions.Invalid(
                "give exactly one of associate or disassociate",
                field="body",
            )
        if req.associate is not None:
            return self.associate(ctxt, fip_id, req.associate)
        return self.disassociate(ctxt, fip_id)

    def delete(self, ctxt, fip_id: str) -> dict | None:
        """Release: None when nothing ran anywhere; the task's
        {"id","task_id"} when the router had to drop the association."""
        with db_engine.session() as s:
            f = self._get(s, ctxt, fip_id, "floating_ips:delete")
            router_id = f.router_id if f.port_id is not None else None
            rc = s.execute(
                sa.delete(F)
                .where(F.id == f.id)
                .execution_options(synchronize_session=False)
            ).rowcount
            if rc != 1:
                raise exceptions.NotFound(f"floating ip {fip_id} not found")
            quotas.release_floating_ip(s, f.account_id)
            if router_id is None:
                return None
            task = self._task(s, f, "release", ctxt)
        self._sync(ctxt, task.id, router_id)
        return {"id": fip_id, "task_id": task.id}
