"""One lock per node, shared by the RPC calls and the power sync: two
requests to one BMC never overlap (BMCs serve few sessions, and a status
read in the middle of a reboot would report a passing "off")."""

import contextlib
import threading


class NodeLocks:
    def __init__(self):
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def _lock(self, node_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(node_id, threading.Lock())

    @contextlib.contextmanager
    def hold(self, node_id: str):
        with self._lock(node_id):
            yield

    @contextlib.contextmanager
    def try_hold(self, node_id: str):
        """Yields whether the lock was free (and is now held)."""
        lock = self._lock(node_id)
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()
