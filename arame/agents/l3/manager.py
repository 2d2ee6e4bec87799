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

add_floating_ip and remove_floating_ip (1.2) are deltas: one floating
IP's mapping set or dropped on the spec this agent last applied to the
router (drivers.base.RouterDriver.last_applied), so that an association does
not carry, parse and check the router's 1,000 others. Without such a spec
(the agent restarted, the last apply failed) or when the result would not
be a valid router, nothing is done and the answer says so ("applied":
false): the scheduler sends the full state instead.
"""

import contextlib
import threading

import oslo_messaging as messaging
from oslo_log import log

from arame.agents.base import PingManager
from arame.agents.l3 import messages
from arame.agents.l3.drivers.base import (
    InvalidRouter,
    check_router_id,
    parse_router,
    with_floating_ip,
)
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
    """1.1: apply_router, remove_router, status
    1.2: add_floating_ip, remove_floating_ip"""

    target = messaging.Target(version="1.2")

    def __init__(self, driver=None):
        super().__init__(BINARY)
        # The all-in-one builds the manager alone: routers in memory.
        self.driver = driver if driver is not None else FakeRouterDriver()
        self.lock = _Locks()
        # Every change of a router takes the next number: the resync
        # knows which routers changed after it asked the collector (the
        # flow's message is then newer than the answer it holds).
        self._seq_lock = threading.Lock()
        self._seq = 0
        self._changed: dict[str, int] = {}

    def inventory(self) -> dict:
        """What the heartbeat carries."""
        return {"routers": len(self.driver.routers())}

    # -- for the resync (not RPC: the dispatcher skips _names) -------------
    def _mark(self, rid: str) -> None:
        with self._seq_lock:
            self._seq += 1
            self._changed[rid] = self._seq

    def _now(self) -> int:
        with self._seq_lock:
            return self._seq

    def _newer(self, rid: str, since: int | None) -> bool:
        if since is None:
            return False
        with self._seq_lock:
            return self._changed.get(rid, 0) > since

    def _forget_before(self, since: int) -> None:
        """Changes up to `since` are known to every later resync."""
        with self._seq_lock:
            for rid in [r for r, n in self._changed.items() if n <= since]:
                del self._changed[rid]

    def _apply(self, router, since: int | None = None) -> dict | None:
        """apply_router; with `since`, nothing if the router changed after
        it (None returned)."""
        spec = parse_router(router)
        rid = check_router_id(spec.id)
        with self.lock(rid):
            if self._newer(rid, since):
                return None
            LOG.info(
                "apply router %s: %d interface(s), gateway %s, %d floating",
                rid,
                len(router.get("interfaces") or []),
                "yes" if router.get("gateway") else "no",
                len(router.get("floating_ips") or []),
            )
            self.driver.apply(spec)
            self._mark(rid)
        return {
            "id": rid,
            "gateway": bool(router.get("gateway")),
            "interfaces": len(router.get("interfaces") or []),
            "floating_ips": len(router.get("floating_ips") or []),
        }

    def _remove(self, router_id, since: int | None = None) -> bool:
        """remove_router; with `since`, nothing if the router changed
        after it (False returned)."""
        rid = check_router_id(router_id)
        with self.lock(rid):
            if self._newer(rid, since):
                return False
            LOG.info("remove router %s", rid)
            self.driver.remove(rid)
            self._mark(rid)
        return True

    def _delta(self, router_id, address, fixed_address) -> dict:
        """The router's last applied spec with floating IP `address`
        mapped to `fixed_address` (None: unmapped), applied."""
        rid = check_router_id(router_id)
        with self.lock(rid):
            last = self.driver.last_applied(rid)
            if last is None or last.gateway is None:
                return {"id": rid, "applied": False, "reason": "unknown"}
            try:
                spec = with_floating_ip(last, address, fixed_address)
            except InvalidRouter as e:
                # Maybe only this agent's spec is stale: the full state
                # decides (and refuses it if it is the records' too).
                return {"id": rid, "applied": False, "reason": e.message}
            changed = spec != last
            if changed:
                LOG.info(
                    "router %s: floating IP %s -> %s",
                    rid,
                    address,
                    fixed_address or "none",
                )
                self.driver.apply(spec)
                self._mark(rid)
        return {
            "id": rid,
            "applied": True,
            "changed": changed,
            "floating_ips": len(spec.floating_ips),
        }

    # -- RPC methods (1.1) -------------------------------------------------
    def apply_router(self, ctxt, router: messages.Router):
        return self._apply(router)

    def remove_router(self, ctxt, router_id):
        self._remove(router_id)
        return {"id": router_id}

    def status(self, ctxt):
        return {"host": CONF.host, "routers": sorted(self.driver.routers())}

    # -- RPC methods (1.2) -------------------------------------------------
    def add_floating_ip(
        self, ctxt, router_id, floating_ip: messages.FloatingIp
    ):
        """floating_ip {"address", "fixed_address"}: mapped so (moved if
        it was mapped elsewhere, its old flows cut)."""
        if not isinstance(floating_ip, dict) or not floating_ip.get(
            "fixed_address"
        ):
            raise InvalidRouter(
                f"floating IP: not an address and fixed address: "
                f"{floating_ip!r}"
            )
        return self._delta(
            router_id,
            floating_ip.get("address"),
            floating_ip.get("fixed_address"),
        )

    def remove_floating_ip(self, ctxt, router_id, address):
        """Unmapped, its flows cut; not mapped here is success."""
        return self._delta(router_id, address, None)
