"""The collector's endpoints: notifications in, and the agents' "what should
I hold?" queries over RPC (resync after an agent restarts)."""

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_log import log

from arame.agents.sta import messages as sta_messages
from arame.collector import nodes, observations, ownership, usage
from arame.common import naming, routing
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.common.db import retry as db_retry

LOG = log.getLogger(__name__)

TOPIC = "collector"


class NotificationEndpoint:
    """Dispatches by event type; an unknown type is logged and dropped."""

    filter_rule = messaging.NotificationFilter(
        event_type=r"^(service\.heartbeat|instance\.state|host\.orphans|"
        r"usage\.(open|close)|node\.power)$"
    )

    def __init__(self, hva=None):
        self.hva = hva

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        writer = {
            "service.heartbeat": observations.record_heartbeat,
            "instance.state": observations.record_power_state,
            "host.orphans": self._orphans,
            "usage.open": lambda s, p: usage.record(s, "open", p),
            "usage.close": lambda s, p: usage.record(s, "close", p),
            nodes.EVENT: nodes.record_power,
        }[event_type]
        try:
            # A deadlock or a database failover is waited out: a usage
            # record dropped here would be missing from the ledger.
            db_retry.transaction(writer, payload)
        except Exception:
            LOG.exception(
                "could not record %s from %s", event_type, publisher_id
            )
        return messaging.NotificationResult.HANDLED

    def _orphans(self, session, payload: dict) -> None:
        for iid in observations.orphans_to_remove(session, payload):
            LOG.warning(
                "removing domain %s from %s: its instance is terminated",
                iid,
                payload["host"],
            )
            if self.hva is not None:
                self.hva.cast_destroy({}, payload["host"], iid)


def expected_exports(session, node: str) -> list[dict]:
    """The iSCSI exports storage node `node` should serve: every volume
    there with an export recorded (`export_iqn`), not deleted, held by an
    instance that is not terminated (its root volume, or an attached data
    volume), to that instance's host's initiator address, with its CHAP.

    Not to a fenced host (its evacuation revoked its initiator and it has
    not reported since): an export its guest is about to leave must not
    be handed back to the dead host by a rebuild that runs before the
    evacuation has moved the guest. Left out, it is not bound to anyone
    until the evacuation exports it to the new host."""
    V, I, H = models.Volume, models.Instance, models.Host
    HE = models.HostEvacuation
    rows = session.execute(
        sa.select(
            V.id,
            V.export_iqn,
            V.chap_user,
            V.chap_secret,
            I.id.label("instance_id"),
            H.storage_address,
            H.last_report_at,
            HE.fenced_at,
        )
        .join(I, I.id == V.instance_id)
        .outerjoin(H, H.name == I.host)
        .outerjoin(HE, HE.host == I.host)
        .where(
            V.storage_node == node,
            V.export_iqn.is_not(None),
            V.status != "deleted",
            V.deleted_at.is_(None),
            I.status != "terminated",
        )
        .order_by(V.id)
    ).all()
    out = []
    for r in rows:
        if r.fenced_at is not None and (
            r.last_report_at is None or r.fenced_at > r.last_report_at
        ):
            LOG.info(
                "volume %s of %s: its host is fenced, not expected on %s",
                r.id,
                r.instance_id,
                node,
            )
            continue
        if not (r.storage_address and r.chap_user and r.chap_secret):
            # Nothing to export it to (its host is gone or has no initiator
            # address): left out, so a rebuild removes a stale target.
            LOG.warning(
                "volume %s of %s: no initiator address or CHAP, not "
                "expected on %s",
                r.id,
                r.instance_id,
                node,
            )
            continue
        export: sta_messages.Export = {
            "volume_id": r.id,
            "iqn": r.export_iqn,
            "initiator_address": r.storage_address,
            "chap_user": r.chap_user,
            "chap_secret": r.chap_secret,
        }
        # An sta older than 1.3 asks too, and reads chap_password.
        out.append(sta_messages.with_old_names(export))
    return out


def expected_routers(session, host: str) -> dict:
    """{id: message} of the routers on `host` that are not deleting."""
    R = models.Router
    ids = session.scalars(
        sa.select(R.id)
        .where(R.host == host, R.status != "deleting")
        .order_by(R.id)
    ).all()
    out = {}
    for rid in ids:
        msg = routing.router_message(session, rid)
        if msg is not None:  # deleted between the two reads
            out[rid] = msg
    return out


class CollectorManager:
    """1.0 - expected_instances, expected_reservations
    1.1 - expected_exports
    1.2 - fetch_nodes
    1.3 - expected_instances says which instances to compare
    1.4 - expected_routers"""

    target = messaging.Target(version="1.4")

    def fetch_nodes(self, ctxt, host):
        """The bare-metal nodes `host`'s bma watches, with their BMC
        credentials (bma's power sync)."""
        with db_engine.session() as s:
            return nodes.fetch_nodes(s, host)

    def expected_instances(self, ctxt, host):
        """Instances the controller places on `host`: hva compares them with
        what its hypervisor runs."""
        I = models.Instance
        with db_engine.session() as s:
            rows = s.execute(
                sa.select(
                    I.id,
                    I.status,
                    I.power_state,
                    ownership.owned_by_flow(I).label("owned"),
                ).where(I.host == host, I.claimed.is_(True))
            ).all()
        # `compare`: the record follows the host's report (every state but
        # terminated, unless a flow owns it), so hva reports each guest
        # whose power differs; older agents read the status instead.
        return {
            "instances": {
                r.id: {
                    "status": r.status,
                    "power_state": r.power_state,
                    "compare": not r.owned and r.status != "terminated",
                }
                for r in rows
            }
        }

    def expected_reservations(self, ctxt, host, network_ids):
        """What a naming node should serve: every network with a live
        instance and all of its reservations (nsa's resync)."""
        with db_engine.session() as s:
            return naming.expected(s, network_ids or [])

    def expected_exports(self, ctxt, node):
        """{"exports": [...]}: what a storage node should export (sta's
        resync at start and after tgtd restarts); carries CHAP secrets,
        as export_volume does."""
        with db_engine.session() as s:
            return {"exports": expected_exports(s, node)}

    def expected_routers(self, ctxt, host):
        """{"routers": {id: message}}: the routers placed on `host` and
        not being deleted, each as the flows send it (the L3 agent's
        resync: authoritative, a router left out is removed there)."""
        with db_engine.session() as s:
            return {"routers": expected_routers(s, host)}
