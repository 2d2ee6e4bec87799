"""Bring the node back to what the controller expects, at start and every
`[nsa] resync_interval`: a lost cast, a restart or a hand edit is repaired.

`fetch_expected(network_ids) -> {network_id: (network, reservations)}` is
injected (the daemon wires it to the collector's `expected_reservations`;
tests pass a function). The answer is authoritative for the networks asked
about: one it leaves out is no longer served here; one it adds is served.
If the controller cannot be reached, the node keeps serving what it has.
"""

from oslo_log import log

from arame.agents.nsa import records

LOG = log.getLogger(__name__)


class Resync:
    def __init__(self, manager, fetch_expected):
        self.manager = manager
        self.fetch_expected = fetch_expected

    def run_once(self) -> dict:
        """{"synced": [ids], "removed": [ids], "failed": {id: reason}}."""
        served = sorted(self.manager.driver.networks())
        try:
            expected = self.fetch_expected(served)
        except Exception as e:  # noqa: BLE001  (whatever it is: keep serving)
            LOG.warning(
                "resync: controller not reached, keeping %d "
                "network(s) as they are: %s",
                len(served),
                e,
            )
            return {"synced": [], "removed": [], "failed": {"*": str(e)}}
        out = {"synced": [], "removed": [], "failed": {}}
        for nid, (network, reservations) in sorted(expected.items()):
            try:
                self.manager.sync({}, network, reservations)
                out["synced"].append(nid)
            except Exception as e:
                # One bad network must not keep the others stale.
                LOG.exception("resync of %s failed", nid)
                out["failed"][nid] = str(e)
        for nid in served:
            if nid not in expected:
                LOG.info("resync: %s is no longer served here", nid)
                try:
                    self.manager.remove_network({}, records.network_id(nid))
                    out["removed"].append(nid)
                except Exception as e:
                    LOG.exception("resync: removing %s failed", nid)
                    out["failed"][nid] = str(e)
        return out
