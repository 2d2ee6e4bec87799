"""One runner for every daemon.

A daemon is a list of components (RPC servers, notification listeners, the
HTTP server, periodic loops, heartbeats). The launcher starts them, reloads the
configuration on SIGHUP (components with a `reset` re-read what they use), and
on SIGTERM or SIGINT stops taking new work, lets in-flight work finish, and
exits.
"""

import signal
import threading
from concurrent import futures
from typing import Protocol

from oslo_log import log

from arame.common.conf import CONF

LOG = log.getLogger(__name__)


class Component(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None:
        """Stop taking new work and wait for in-flight work to finish."""


class Launcher:
    def __init__(self, name: str, components: list):
        self.name = name
        self.components = list(components)
        self._stop = threading.Event()
        self._reload = threading.Event()

    def _on_term(self, signum, _frame):
        LOG.info("%s: signal %s, stopping", self.name, signum)
        self._stop.set()

    def _on_hup(self, _signum, _frame):
        self._reload.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, self._on_hup)

    def reload(self) -> None:
        LOG.info("%s: reloading configuration", self.name)
        CONF.mutate_config_files()
        for c in self.components:
            reset = getattr(c, "reset", None)
            if reset is not None:
                reset()

    def start(self) -> None:
        for c in self.components:
            c.start()
        LOG.info("%s: started", self.name)

    def stop(self) -> None:
        # The heartbeat (last) stops first, so nobody sends us more work;
        # then every server stops at once: each oslo listener takes seconds
        # to notice, and an hva of many fake hosts has hundreds.
        last, rest = self.components[-1:], self.components[:-1]
        for c in last:
            self._stop_one(c)
        if rest:
            with futures.ThreadPoolExecutor(
                min(len(rest), 256), thread_name_prefix="stop"
            ) as pool:
                list(pool.map(self._stop_one, rest))
        LOG.info("%s: stopped", self.name)

    def _stop_one(self, c) -> None:
        try:
            c.stop()
        except Exception:
            LOG.exception("%s: error stopping %r", self.name, c)

    def request_stop(self) -> None:
        self._stop.set()

    def run(self) -> int:
        """Start, serve until told to stop, stop cleanly. Main thread only."""
        self.install_signal_handlers()
        self.start()
        try:
            while not self._stop.is_set():
                # Signal handlers only set events; the main thread does the
                # work, outside the handler.
                self._stop.wait(0.5)
                if self._reload.is_set():
                    self._reload.clear()
                    self.reload()
        finally:
            self.stop()
        return 0


class RPCServerComponent:
    """An oslo.messaging server (RPC or notification listener) as a component."""

    def __init__(self, server, name: str = "rpc"):
        self.server = server
        self.name = name

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        # stop() ends consumption; wait() lets the dispatched messages finish.
        self.server.stop()
        self.server.wait()


class PeriodicComponent:
    """Calls `func` every `interval()` seconds on its own thread."""

    def __init__(self, name: str, func, interval, run_first: bool = True):
        self.name = name
        self.func = func
        self.interval = interval if callable(interval) else (lambda: interval)
        self.run_first = run_first
        self._stop = threading.Event()
        self._thread = None

    def _loop(self):
        if self.run_first:
            self._run_once()
        while True:
            interval = self.interval()
            # 0 or less: no round after the first (an option's "off"),
            # not a loop without a pause.
            if interval <= 0 or self._stop.wait(interval):
                return
            self._run_once()

    def _run_once(self):
        try:
            self.func()
        except Exception:
            LOG.exception("periodic task %s failed", self.name)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, name=self.name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
