"""Gather reload requests for a short window, then act once per key.

A removal or a rename needs dnsmasq to reload (SIGHUP), and a reload costs
in proportion to the whole network, not to the change. A burst of removals
(an account deleting its instances) thus marks networks dirty, and when the
window closes each dirty network gets one reload.
"""

import threading

from oslo_log import log

LOG = log.getLogger(__name__)


class Coalescer:
    """`mark(key)` asks for `action(key)` within `window` seconds; every
    mark of a key before the window closes is served by the same call.

    `timer(delay, fn)` returns an object with start() and cancel(), as
    threading.Timer does; tests give a fake one to close windows by hand.
    """

    def __init__(self, window: float, action, timer=threading.Timer):
        self.window = window
        self.action = action
        self._timer_factory = timer
        self._lock = threading.Lock()
        self._pending: list = []
        self._timer = None
        self._stopped = False

    def mark(self, key) -> None:
        with self._lock:
            if self._stopped:
                return
            if key not in self._pending:
                self._pending.append(key)
            if self._timer is None:
                self._timer = self._timer_factory(self.window, self._fire)
                daemon = getattr(self._timer, "daemon", None)
                if daemon is not None:
                    self._timer.daemon = True
                self._timer.start()

    def pending(self) -> list:
        with self._lock:
            return list(self._pending)

    def _take(self) -> list:
        with self._lock:
            keys, self._pending, self._timer = self._pending, [], None
            return keys

    def _fire(self) -> None:
        for key in self._take():
            try:
                self.action(key)
            except Exception:
                # The next change or resync of that key reloads again.
                LOG.exception("reload of %s failed", key)

    def discard(self, key) -> None:
        """Forget a pending key (its network went away)."""
        with self._lock:
            if key in self._pending:
                self._pending.remove(key)

    def flush(self) -> None:
        """Act now on everything pending (stop, tests)."""
        with self._lock:
            timer = self._timer
        if timer is not None:
            timer.cancel()
        self._fire()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        self.flush()
