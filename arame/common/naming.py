"""What the naming agents (nsa) serve, read from the records: which nodes
are up, a network as nsa needs it, and each network's reservations.

The build and delete flows and the collector's resync answer all read it
here, so a reservation looks the same however it reaches dnsmasq.
"""

import sqlalchemy as sa
from sqlalchemy import orm

from arame.agents.nsa import messages as nsa_messages
from arame.agents.nsa import rpcapi as nsa_rpcapi
from arame.agents.sta import rpcapi as sta_rpcapi
from arame.common import pxe
from arame.common.db import models, services


def nodes(session) -> list[str]:
    """Hosts of the nsa daemons that are up."""
    return services.live_hosts(session, nsa_rpcapi.BINARY)


def routed(session, network_id: str) -> bool:
    """A router holds the network's gateway."""
    RI = models.RouterInterface
    return (
        session.scalar(
            sa.select(RI.router_id).where(RI.network_id == network_id).limit(1)
        )
        is not None
    )


def network_message(net: models.Network) -> nsa_messages.NetworkSpec:
    # dnsmasq listens on the network's bridge (named after the network, as
    # hva names it). Until a router holds the gateway, dnsmasq holds it:
    # the bridge in the naming namespace is then the guests' way to what
    # is local there (a bare-metal node's iSCSI portal). Once routed,
    # dnsmasq moves to the network's own DHCP address (a network made
    # before routers may have none: it cannot be routed).
    session = orm.object_session(net)
    moved = (
        net.dhcp_address is not None
        and session is not None
        and routed(session, net.id)
    )
    return {
        "id": net.id,
        "cidr": net.cidr,
        "gateway": net.gateway,
        "dhcp_address": net.dhcp_address if moved else net.gateway,
        "dns_domain": net.dns_domain,
        "dhcp_ranges": [list(r) for r in net.dhcp_ranges],
        "mtu": net.mtu,
        "bridge": net.id,
        # nsa makes the bridge's segment port as hva does, so a naming
        # host that runs no guest of the network still serves it.
        "segmentation": net.segmentation,
        "segment_id": net.segment_id,
    }


def reservations(
    session, network_ids
) -> dict[str, list[nsa_messages.Reservation]]:
    """{network_id: [{"mac","ip","hostname","boot_script"?}]} of live
    instances' ports; a bare-metal node's port carries the iPXE script that
    sanboots its root volume, or a resync would take it away."""
    P, I, V = models.Port, models.Instance, models.Volume
    out: dict[str, list[nsa_messages.Reservation]] = {
        n: [] for n in network_ids
    }
    if not out:
        return out
    for row in session.execute(
        sa.select(
            P.network_id,
            P.mac_address,
            P.ip_address,
            P.hostname,
            I.node_id,
            V.export_iqn,
            V.export_portal,
            V.chap_user,
            V.chap_secret,
        )
        .join(I, I.id == P.instance_id)
        .outerjoin(
            V,
            sa.and_(
                V.root_of == I.id,
                I.node_id.is_not(None),
                V.deleted_at.is_(None),
            ),
        )
        .where(P.network_id.in_(list(out)), I.status != "terminated")
        .order_by(P.ip_address)
    ):
        r: nsa_messages.Reservation = {
            "mac": row.mac_address,
            "ip": row.ip_address,
            "hostname": row.hostname,
        }
        if row.node_id and row.export_iqn:
            r["boot_script"] = pxe.sanboot_script(
                portal=row.export_portal,
                iqn=row.export_iqn,
                lun=sta_rpcapi.EXPORT_LUN,
                chap_user=row.chap_user,
                chap_secret=row.chap_secret,
            )
        out[row.network_id].append(r)
    return out


def expected(session, network_ids) -> dict:
    """The resync answer for a node: every network with a live port, with
    all its reservations. A network the node asked about that is not in
    it (its last instance went) is no longer served there."""
    P, I, N = models.Port, models.Instance, models.Network
    live = set(
        session.scalars(
            sa.select(P.network_id)
            .join(I, I.id == P.instance_id)
            .where(I.status != "terminated")
            .distinct()
        )
    )
    nets = session.scalars(sa.select(N).where(N.id.in_(sorted(live)))).all()
    res = reservations(session, [n.id for n in nets])
    return {
        "networks": {
            n.id: {"network": network_message(n), "reservations": res[n.id]}
            for n in nets
        }
    }
