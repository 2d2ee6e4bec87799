"""Networks: an address plan on an L2 segment. Records only (no task): the
agents learn a network from the instances that use it."""

import sqlalchemy as sa

from arame.api import pagination, policy, tags
from arame.api.services import names
from arame.common import exceptions, ids, ipam, routing
from arame.common.db import engine as db_engine
from arame.common.db import models

DEFAULT_NAME = "default"


def to_dict(n: models.Network, tag_list=()) -> dict:
    return {
        "id": n.id,
        "name": n.name,
        "account_id": n.account_id,
        "shared": n.shared,
        "ip_version": n.ip_version,
        "cidr": n.cidr,
        "gateway": n.gateway,
        "dns_domain": n.dns_domain,
        "dhcp_ranges": n.dhcp_ranges,
        "segmentation": n.segmentation,
        "segment_id": n.segment_id,
        "mtu": n.mtu,
        "external": bool(n.external),
        "physical_network": n.physical_network,
        "dhcp_address": n.dhcp_address,
        "tags": list(tag_list),
        "created_at": n.created_at,
        "updated_at": n.updated_at,
    }


def _visible(ctxt):
    N = models.Network
    if ctxt.is_admin:
        return sa.true()
    # External networks are every account's way out: listed to all.
    return sa.or_(
        N.account_id == ctxt.account_id,
        N.shared.is_(True),
        N.external.is_(True),
    )


def _load(s, ctxt, network_id: str) -> models.Network:
    """A network the caller can see (own, shared, or any for an admin);
    404 otherwise, as for every resource of another account."""
    net = (
        s.get(models.Network, network_id)
        if ids.is_valid("network", network_id)
        else None
    )
    if net is None or not (
        ctxt.is_admin
        or net.shared
        or net.external
        or net.account_id == ctxt.account_id
    ):
        raise exceptions.NotFound(f"network {network_id} not found")
    return net


def _check_segment(segmentation: str, segment_id: int) -> None:
    lo, hi = ipam.SEGMENT_LIMITS[segmentation]
    if not lo <= segment_id <= hi:
        raise exceptions.Invalid(
            f"segment_id: a {segmentation} segment id is {lo}..{hi}",
            field="segment_id",
        )


def _check_external(ctxt, req) -> None:
    """An external network is an admin's, on a named physical network;
    flat segmentation (no segment id) is for external networks only."""
    if req.external:
        policy.enforce(ctxt, "networks:create_external")
        if req.physical_network is None:
            raise exceptions.Invalid(
                "physical_network: an external network needs one (the "
                "name the network hosts map to a device)",
                field="physical_network",
            )
    elif req.physical_network is not None:
        raise exceptions.Invalid(
            "physical_network: only an external network has one",
            field="physical_network",
        )
    if req.segmentation == "flat":
        if not req.external:
            raise exceptions.Invalid(
                "segmentation: flat is for external networks only",
                field="segmentation",
            )
        if req.segment_id is not None:
            raise exceptions.Invalid(
                "segment_id: a flat network has no segment id",
                field="segment_id",
            )


def create(ctxt, req) -> dict:
    if req.shared:
        policy.enforce(ctxt, "networks:create_shared")
    _check_external(ctxt, req)
    plan = ipam.make_plan(
        req.cidr,
        req.gateway,
        [list(r) for r in req.dhcp_ranges]
        if req.dhcp_ranges is not None
        else None,
        # An external network's ranges are the floating pool: no DHCP.
        dhcp=not req.external,
    )
    flat = req.segmentation == "flat"
    if req.segment_id is not None:
        _check_segment(req.segmentation, req.segment_id)
    mtu = req.mtu or ipam.default_mtu(req.segmentation)
    N = models.Network
    with db_engine.session() as s:

        def name_taken() -> bool:
            return (
                s.scalar(
                    sa.select(N.id).where(
                        N.account_id == ctxt.account_id, N.name == req.name
                    )
                )
                is not None
            )

        def segment_taken(seg: int) -> bool:
            return (
                s.scalar(
                    sa.select(N.id).where(
                        N.segmentation == req.segmentation, N.segment_id == seg
                    )
                )
                is not None
            )

        def segment_conflict():
            return exceptions.Conflict(
                f"{req.segmentation} segment {req.segment_id} is used by "
                "another network",
                segment_id=req.segment_id,
            )

        if name_taken():
            raise exceptions.Conflict(f"network {req.name!r} already exists")
        if req.segment_id is not None and segment_taken(req.segment_id):
            raise segment_conflict()
        # UNIQUE(segmentation, segment_id) and UNIQUE(account_id, name)
        # settle races with another request; a lost automatic segment id
        # is simply drawn again.
        for _ in range(ipam.ATTEMPTS):
            seg = (
                None
                if flat
                else req.segment_id
                or ipam.pick_segment_id(s, req.segmentation)
            )
            now = models.utcnow()
            net = N(
                id=ids.generate("network"),
                name=req.name,
                account_id=ctxt.account_id,
                shared=req.shared,
                ip_version=plan.ip_version,
                cidr=plan.cidr,
                gateway=plan.gateway,
                dns_domain=req.dns_domain,
                dhcp_ranges=plan.dhcp_ranges,
                dhcp_address=plan.dhcp_address,
                segmentation=req.segmentation,
                segment_id=seg,
                mtu=mtu,
                external=req.external,
                physical_network=req.physical_network,
                created_at=now,
                updated_at=now,
            )
            try:
                with s.begin_nested():
                    s.add(net)
                    labels = tags.tag_new(s, net.id, req.tags)
                return to_dict(net, labels)
            except sa.exc.IntegrityError:
                if name_taken():
                    raise exceptions.Conflict(
                        f"network {req.name!r} already exists"
                    ) from None
                if req.segment_id is not None:
                    raise segment_conflict() from None
                if seg is None or not segment_taken(seg):
                    raise
    raise exceptions.Conflict(
        f"no {req.segmentation} segment id could be "
        "reserved (too many concurrent requests); "
        "try again"
    )


def get(ctxt, network_id: str) -> dict:
    with db_engine.session() as s:
        net = _load(s, ctxt, network_id)
        policy.enforce(ctxt, "networks:get")
        return to_dict(net, tags.tags_of(s, [net.id])[net.id])


def list_networks(
    ctxt, *, name=None, limit=None, marker=None, sort=None, tag=None
) -> dict:
    N = models.Network
    stmt = sa.select(N).where(_visible(ctxt))
    if name:
        stmt = stmt.where(pagination.name_filter(N.name, name))
    stmt = tags.filter_by(stmt, N.id, tag)
    with db_engine.session() as s:
        rows, nxt = pagination.page(s, stmt, N, marker, limit, sort=sort)
        labels = tags.tags_of(s, [n.id for n in rows])
        return {
            "items": [to_dict(n, labels[n.id]) for n in rows],
            "next_marker": nxt,
        }


def delete(ctxt, network_id: str) -> None:
    I, P = models.Instance, models.Port
    with db_engine.session() as s:
        net = _load(s, ctxt, network_id)
        # A shared network is visible to all but only its owner (or an
        # admin) may delete it: 403, not 404.
        policy.enforce(ctxt, "networks:delete", net.account_id)
        # Allocations hold the row too: one in flight either commits its
        # port before the check below or finds the network gone.
        ipam.lock_network(s, net.id)
        holders = list(
            s.scalars(
                sa.select(I.id)
                .join(P, P.instance_id == I.id)
                .where(P.network_id == net.id, I.status != "terminated")
                .order_by(I.id)
                .limit(11)
            )
        )
        if holders:
            shown = ", ".join(holders[:10]) + (
                ", ..." if len(holders) > 10 else ""
            )
            raise exceptions.Conflict(
                f"network {net.id} still has instances with addresses on "
                f"it: {shown}",
                instances=holders[:10],
            )
        _check_no_routing(s, net)
        # Addresses of terminated instances the release missed go with it
        # (and any floating IP association still pointing at them).
        routing.disassociate_ports(
            s, sa.select(P.id).where(P.network_id == net.id)
        )
        s.execute(
            sa.delete(P)
            .where(P.network_id == net.id)
            .execution_options(synchronize_session=False)
        )
        tags.delete_all(s, net.id)
        s.delete(net)


def _check_no_routing(s, net: models.Network) -> None:
    """A network a router uses, or an external network with addresses
    handed out, stays (409 naming what holds it)."""
    RI, R, F = models.RouterInterface, models.Router, models.FloatingIp
    router = s.scalar(
        sa.select(RI.router_id).where(RI.network_id == net.id).limit(1)
    ) or s.scalar(
        sa.select(R.id).where(R.gateway_network_id == net.id).limit(1)
    )
    if router is not None:
        raise exceptions.Conflict(
            f"network {net.id} is attached to router {router}",
            router_id=router,
        )
    held = s.scalar(
        sa.select(sa.func.count()).select_from(F).where(F.network_id == net.id)
    )
    if held:
        raise exceptions.Conflict(
            f"network {net.id} still has {held} floating IPs allocated",
            floating_ips=held,
        )


def for_instance(
    s, account_id: str, network_ref: str | None, field: str = "network"
) -> models.Network | None:
    """The network a new instance of `account_id` joins: the one it names
    by id or name (own or shared; 422 otherwise), else the shared network
    `default`, else none."""
    N = models.Network
    if network_ref is None:
        return s.scalar(
            sa.select(N)
            .where(N.shared.is_(True), N.name == DEFAULT_NAME)
            .order_by(N.created_at, N.id)
            .limit(1)
        )
    net = names.resolve(
        s,
        N,
        "network",
        network_ref,
        visible=sa.or_(
            N.shared.is_(True),
            N.external.is_(True),
            N.account_id == account_id,
        ),
        field=field,
    )
    if net.external:
        raise exceptions.Invalid(
            f"{field}: network {net.id} is external: instances do not join "
            "it (allocate a floating IP from it instead)",
            field=field,
        )
    return net
