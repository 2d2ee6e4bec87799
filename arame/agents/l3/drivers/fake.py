"""Routers in memory: for unit tests, the all-in-one and scale benchmarks.

It keeps the real driver's contract (apply makes exactly the spec,
repeated changes nothing, remove of an absent router succeeds) and counts
what the real one would do: rulesets loaded, floating IPs whose flows
would be cut (the conntrack deletions of a removed association).
"""

import threading

from arame.agents.l3.drivers import base


class FakeRouterDriver(base.RouterDriver):
    def __init__(self):
        self._lock = threading.Lock()
        self._routers: dict[str, base.RouterSpec] = {}
        self.applied = 0  # apply calls that changed something
        self.cut: list[tuple[str, str]] = []  # (router id, floating IP)

    def apply(self, router: base.RouterSpec) -> None:
        if not isinstance(router, base.RouterSpec):
            raise TypeError(f"not a RouterSpec: {router!r}")
        with self._lock:
            before = self._routers.get(router.id)
            if before == router:
                return
            old = set(before.floating_ips) if before else set()
            gone = old - set(router.floating_ips)
            for f in sorted(gone, key=lambda f: f.address):
                self.cut.append((router.id, str(f.address)))
            self._routers[router.id] = router
            self.applied += 1

    def remove(self, router_id: str) -> None:
        base.check_router_id(router_id)
        with self._lock:
            self._routers.pop(router_id, None)

    def routers(self) -> set[str]:
        with self._lock:
            return set(self._routers)

    def last_applied(self, router_id: str) -> base.RouterSpec | None:
        with self._lock:
            return self._routers.get(router_id)

    def get(self, router_id: str) -> base.RouterSpec | None:
        """The spec a router was last applied with (tests)."""
        with self._lock:
            return self._routers.get(router_id)
