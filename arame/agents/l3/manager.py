"""RPC endpoint of the L3 agent: the routers this host holds.

A router arrives whole (arame.common.routing.router_message) and is
checked entirely (drivers.base.parse_router: ids, addresses, names)
before the driver runs a single command: a bad message is refused
(InvalidRouter, 422) with nothing changed. Changes of one router are
serialised (a lock per router id): a resync and a flow applying the same
router never interleave their commands; different routers go in
parallel.

Every operation is idempotent, so the scheduler may ask again whatever
it is not sure was done: apply_router makes the router exactly as
described (the same message twice changes nothing), remove_router of a
router not here succeeds.
"""

import contextlib
import threading

import oslo_messaging as messaging
from oslo_log import log

from arame.agents.base import PingManager
from arame.agents.l3.drivers.base import check_router_id, parse_router
from arame.agents.l3.drivers.fake import FakeRouterDriver
from arame.agents.l3.rpcapi import BINARY
from arame.common.conf import CONF

LOG = log.getLogger(__name__)


class _Locks:
    """One lock per router id, dropped when nobody holds or waits for it
    (routers come and go: the map must not grow forever)."""

    def __init__(self):
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}  # id -> [lock, users]

    @contextlib.contextmanager
    def __call__(self, rid: str):
        with self._guard:
            entry = self._locks.setdefault(rid, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[rid]

    def __len__(self) -> int:
        return len(self._locks)


class L3Manager(PingManager):
    """1.1: apply_router, remove_router, status."""

    target = messaging.Target(version="1.1")

    def __init__(self, driver=None):
        super().__init__(BINARY)
        # The all-in-one builds the manager alone: routers in memory.
        self.driver = driver if driver is not None else FakeRouterDriver()
        self.lock = _Locks()

    def inventory(self) -> dict:
        """What the heartbeat carries."""
        return {"routers": len(self.driver.routers())}

    # -- RPC methods (1.1) -------------------------------------------------
    def apply_router(self, ctxt, router):
        spec = parse_router(router)
        rid = check_router_id(spec.id)
        with self.lock(rid):
            LOG.info(
                "apply router %s: %d interface(s), gateway %s, %d floating",
                rid,
                len(router.get("interfaces") or []),
                "yes" if router.get("gateway") else "no",
                len(router.get("floating_ips") or []),
            )
            self.driver.apply(spec)
        return {
            "id": rid,
            "gateway": bool(router.get("gateway")),
            "interfaces": len(router.get("interfaces") or []),
            "floating_ips": len(router.get("floating_ips") or []),
        }

    def remove_router(self, ctxt, router_id):
        rid = check_router_id(router_id)
        with self.lock(rid):
            LOG.info("remove router %s", rid)
            self.driver.remove(rid)
        return {"id": rid}

    def status(self, ctxt):
        return {"host": CONF.host, "routers": sorted(self.driver.routers())}
