"""The collector's endpoints: notifications in, and the agents' "what should
I hold?" queries over RPC (resync after an agent restarts)."""

from oslo_log import log
import oslo_messaging as messaging
import sqlalchemy as sa

from arame.collector import observations, usage
from arame.common import naming
from arame.common.db import engine as db_engine
from arame.common.db import models

LOG = log.getLogger(__name__)

TOPIC = "collector"


class NotificationEndpoint:
    """Dispatches by event type; an unknown type is logged and dropped."""

    filter_rule = messaging.NotificationFilter(
        event_type=r"^(service\.heartbeat|instance\.state|host\.orphans|"
                   r"usage\.(open|close))$")

    def __init__(self, hva=None):
        self.hva = hva

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        writer = {"service.heartbeat": observations.record_heartbeat,
                  "instance.state": observations.record_power_state,
                  "host.orphans": self._orphans,
                  "usage.open": lambda s, p: usage.record(s, "open", p),
                  "usage.close": lambda s, p: usage.record(s, "close", p),
                  }[event_type]
        try:
            with db_engine.session() as s:
                writer(s, payload)
        except Exception:
            LOG.exception("could not record %s from %s", event_type,
                          publisher_id)
        return messaging.NotificationResult.HANDLED


    def _orphans(self, session, payload: dict) -> None:
        for iid in observations.orphans_to_remove(session, payload):
            LOG.warning("removing domain %s from %s: its instance is "
                        "terminated", iid, payload["host"])
            if self.hva is not None:
                self.hva.cast_destroy({}, payload["host"], iid)


class CollectorManager:
    target = messaging.Target(version="1.0")

    def expected_instances(self, ctxt, host):
        """Instances the controller places on `host`: hva compares them with
        what its hypervisor runs."""
        I = models.Instance
        with db_engine.session() as s:
            rows = s.execute(sa.select(I.id, I.status, I.power_state)
                             .where(I.host == host, I.claimed.is_(True))).all()
        return {"instances": {r.id: {"status": r.status,
                                     "power_state": r.power_state}
                              for r in rows}}

    def expected_reservations(self, ctxt, host, network_ids):
        """What a naming node should serve: every network with a live
        instance and all of its reservations (nsa's resync)."""
        with db_engine.session() as s:
            return naming.expected(s, network_ids or [])
