"""Bare-metal nodes as the agents see them: the node list a bma agent's
power sync asks for (over RPC: agents hold no DB credentials), and the
`node.power` notifications it sends back.

A node found on while `available` was powered on behind our back (nobody
deployed it): it is reported (status_reason + a warning), not switched
off. A BMC that stops answering puts an idle node in `error` — never in
limbo — with the agent's words as the reason.
"""

import sqlalchemy as sa
from oslo_log import log

from arame.common import ids, states
from arame.common.db import models

LOG = log.getLogger(__name__)

EVENT = "node.power"
POWER_STATES = ("on", "off", "error")
UNEXPECTED_ON = "powered on outside Arame while available"
# An active node's power, as its instance shows it (as a VM's).
INSTANCE_POWER = {"on": "running", "off": "shutdown"}
# Nodes without an instance: a lost BMC takes them out of service.
_IDLE = ("enroll", "manageable", "available")


def fetch_nodes(session, host: str) -> list[dict]:
    """The nodes `host`'s bma drives, as its RPC calls take them
    (credentials included); maintenance nodes are left alone."""
    N = models.BaremetalNode
    rows = session.scalars(
        sa.select(N)
        .where(
            N.bma_host == host,
            N.maintenance.is_(False),
            N.provision_state != "enroll",
        )
        .order_by(N.id)
    )
    return [n.bmc_message() for n in rows]


def record_power(session, payload: dict) -> None:
    N = models.BaremetalNode
    nid = payload.get("node_id")
    node = session.get(N, nid) if ids.is_valid("node", nid) else None
    state = payload.get("power_state")
    if (
        node is None
        or state not in POWER_STATES
        or (node.bma_host and node.bma_host != payload.get("host"))
    ):
        return
    now = models.utcnow()
    node.power_state, node.updated_at = state, now
    if state == "error":
        reason = f"BMC: {payload.get('reason') or 'no answer'}"[:255]
        # A node already in error keeps the reason that put it there (a
        # failed manage names the step and the credentials); the power
        # sync's view of the same BMC is only logged.
        if node.provision_state != "error":
            if node.provision_state in _IDLE and states.NODE.is_legal(
                node.provision_state, "error"
            ):
                node.provision_state = "error"
            node.status_reason = reason
        LOG.warning("node %s: %s", node.id, reason)
    elif state == "on" and node.provision_state == "available":
        node.status_reason = UNEXPECTED_ON
        LOG.warning("node %s: %s", node.id, UNEXPECTED_ON)
    elif node.status_reason == UNEXPECTED_ON:
        node.status_reason = None
    if node.instance_id and node.provision_state == "active":
        inst = session.get(models.Instance, node.instance_id)
        if inst is not None and inst.status == "running" and state != "error":
            inst.power_state, inst.updated_at = INSTANCE_POWER[state], now
