"""Routers as the records describe them: the message an L3 agent applies
(the scheduler's flow and the collector's resync both build it here, so a
router looks the same however it reaches its host), and the floating IP
associations that end with a port.

The message is the router's FULL state: the agent makes its namespace
exactly that, so applying it again (a retry, an adopted task, a resync)
changes nothing.
"""

import ipaddress

import sqlalchemy as sa

from arame.agents.l3 import messages as l3_messages
from arame.common.db import models


def _prefix(cidr: str) -> int:
    return ipaddress.ip_network(cidr).prefixlen


def _segment(net: models.Network) -> dict:
    return {
        "id": net.id,
        "segmentation": net.segmentation,
        "segment_id": net.segment_id,
        "mtu": net.mtu,
    }


def router_message(s, router_id: str) -> l3_messages.Router | None:
    """{"id", "gateway", "interfaces", "floating_ips"} (the contract's RPC
    form), or None if the router is gone."""
    R, RI, N, F = (
        models.Router,
        models.RouterInterface,
        models.Network,
        models.FloatingIp,
    )
    router = s.get(R, router_id)
    if router is None:
        return None
    gateway = None
    if router.gateway_network_id and router.gateway_address:
        ext = s.get(N, router.gateway_network_id)
        if ext is not None:
            gateway = {
                "network": {
                    **_segment(ext),
                    "physical_network": ext.physical_network,
                },
                "address": f"{router.gateway_address}/{_prefix(ext.cidr)}",
                # The external network's gateway is the upstream router.
                "next_hop": ext.gateway,
            }
    interfaces = [
        {
            "network": _segment(net),
            "address": f"{ri.address}/{_prefix(net.cidr)}",
        }
        for ri, net in s.execute(
            sa.select(RI, N)
            .join(N, N.id == RI.network_id)
            .where(RI.router_id == router_id)
            .order_by(RI.network_id)
        )
    ]
    floating = [
        {"address": f.address, "fixed_address": f.fixed_address}
        for f in s.scalars(
            sa.select(F)
            .where(
                F.router_id == router_id,
                F.kind == "floating",
                F.port_id.is_not(None),
            )
            .order_by(F.address)
        )
    ]
    return {
        "id": router.id,
        "gateway": gateway,
        "interfaces": interfaces,
        "floating_ips": floating,
    }


def disassociate_ports(s, port_ids) -> list[str]:
    """End the floating IP associations of these ports (ids, or a SELECT
    of ids), in the caller's transaction; the ids of the routers that
    carried them, to apply again. The addresses stay allocated."""
    F = models.FloatingIp
    cond = F.port_id.in_(port_ids)
    routers = sorted(
        set(
            s.scalars(
                sa.select(F.router_id).where(cond, F.router_id.is_not(None))
            )
        )
    )
    s.execute(
        sa.update(F)
        .where(cond)
        .values(
            port_id=None,
            instance_id=None,
            fixed_address=None,
            router_id=None,
            updated_at=models.utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return routers


def disassociate_instance(s, instance_id: str) -> list[str]:
    """disassociate_ports for every port of the instance. Every delete
    asks: one indexed read when it has none (the usual case), no write."""
    F = models.FloatingIp
    held = s.execute(
        sa.select(F.id, F.router_id).where(F.instance_id == instance_id)
    ).all()
    if not held:
        return []
    s.execute(
        sa.update(F)
        .where(F.id.in_([h.id for h in held]))
        .values(
            port_id=None,
            instance_id=None,
            fixed_address=None,
            router_id=None,
            updated_at=models.utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return sorted({h.router_id for h in held if h.router_id})
