"""Bring the host's routers back to what the controller expects, at start
and every `[l3] resync_interval`: a lost call, a restart, a router moved
or a hand edit is repaired.

`fetch_expected() -> {router_id: message}` is injected (the daemon wires
it to the collector's `expected_routers`; tests pass a function). The
answer is authoritative: a router it leaves out is removed from this
host, every router it names is applied as described. If the controller
cannot be reached, the host keeps its routers as they are.
"""

from oslo_log import log

LOG = log.getLogger(__name__)


class Resync:
    def __init__(self, manager, fetch_expected):
        self.manager = manager
        self.fetch_expected = fetch_expected

    def run_once(self) -> dict:
        """{"applied": [ids], "removed": [ids], "failed": {id: reason},
        "newer": [ids changed by a flow meanwhile, left as it made them]}."""
        # Read before asking: a router a flow applies or removes after the
        # answer was made is newer than the answer, which neither applies
        # it again (the flow's message is the newer) nor removes it (the
        # flow records the router's host before it applies).
        since = self.manager._now()
        present = set(self.manager.driver.routers())
        try:
            expected = self.fetch_expected()
        except Exception as e:  # noqa: BLE001  (whatever it is: keep them)
            LOG.warning(
                "resync: controller not reached, keeping the routers as "
                "they are: %s",
                e,
            )
            return {
                "applied": [],
                "removed": [],
                "failed": {"*": str(e)},
                "newer": [],
            }
        out = {"applied": [], "removed": [], "failed": {}, "newer": []}
        for rid, msg in sorted(expected.items()):
            try:
                if self.manager._apply(msg, since) is None:
                    out["newer"].append(rid)
                    continue
                out["applied"].append(rid)
            except Exception as e:
                # One bad router must not keep the others stale.
                LOG.exception("resync of router %s failed", rid)
                out["failed"][rid] = str(e)
        for rid in sorted(present):
            if rid in expected:
                continue
            LOG.info("resync: router %s is no longer expected here", rid)
            try:
                if self.manager._remove(rid, since):
                    out["removed"].append(rid)
                else:
                    out["newer"].append(rid)
            except Exception as e:
                LOG.exception("resync: removing router %s failed", rid)
                out["failed"][rid] = str(e)
        self.manager._forget_before(since)
        return out
