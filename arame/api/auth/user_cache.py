"""What the token check needs of a user, kept for [auth] user_cache_seconds
so a request does not read it each time.

Revocation stays immediate: every change that voids tokens invalidates
(this process at its commit, the others through the bus: events.py).
An invalidation also moves the epoch, so a request that read the row
before it cannot put the stale row back after it."""

import dataclasses
import threading
import time

from arame.common.conf import CONF


@dataclasses.dataclass(frozen=True)
class UserRow:
    account_id: str
    role: str
    enabled: bool
    token_generation: int
    account_enabled: bool


class UserCache:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[UserRow, float]] = {}
        self._epoch = 0

    def lookup(self, user_id: str, read) -> UserRow | None:
        """The cached row, else read(user_id) (-> UserRow | None), kept
        unless an invalidation happened meanwhile."""
        ttl = CONF.auth.user_cache_seconds
        if ttl <= 0:
            return read(user_id)
        now = self._clock()
        with self._lock:
            hit = self._rows.get(user_id)
            if hit is not None and hit[1] > now:
                return hit[0]
            epoch = self._epoch
        row = read(user_id)
        with self._lock:
            if row is not None and epoch == self._epoch:
                self._rows[user_id] = (row, now + ttl)
                if len(self._rows) > _MAX_ENTRIES:
                    self._prune(now)
        return row

    def cached(self, user_id: str) -> UserRow | None:
        """The row if it is cached and fresh, without reading: None means
        ask lookup() (off the event loop, it may read the database)."""
        if CONF.auth.user_cache_seconds <= 0:
            return None
        with self._lock:
            hit = self._rows.get(user_id)
        if hit is not None and hit[1] > self._clock():
            return hit[0]
        return None

    def invalidate_user(self, user_id: str) -> None:
        with self._lock:
            self._epoch += 1
            self._rows.pop(user_id, None)

    def invalidate_account(self, account_id: str) -> None:
        with self._lock:
            self._epoch += 1
            for uid in [
                u
                for u, (row, _) in self._rows.items()
                if row.account_id == account_id
            ]:
                del self._rows[uid]

    def clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self._rows.clear()

    def _prune(self, now: float) -> None:
        for uid in [u for u, (_, exp) in self._rows.items() if exp <= now]:
            del self._rows[uid]
        if len(self._rows) > _MAX_ENTRIES:
            self._rows.clear()


# Bounds the memory of a process that sees very many users in one TTL.
_MAX_ENTRIES = 100_000

CACHE = UserCache()
