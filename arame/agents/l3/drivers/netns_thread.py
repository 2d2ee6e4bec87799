"""One long-lived thread inside each router's network namespace, so that
the association fast path makes its netlink and nf_tables calls from the
agent's process instead of starting `ip` and `nft` (10-60 ms each on a
loaded host, most of an association's time).

setns(2) moves only the calling thread, for good: the thread joins the
namespace once and serves calls from a queue until closed. Python 3.11 has
no os.setns; libc's through ctypes. A namespace deleted and made again
under the same name is another namespace: each call compares the name's
inode with the one the thread joined and starts a new thread if it
differs (a thread left in the old one would change nothing visible).

If the process dies halfway through a call, what the call had done stays
in the kernel and nothing else: the next start's resync reads the
namespace and converges (netns.NetnsRouterDriver._converge).
"""

import ctypes
import ctypes.util
import os
import queue
import threading
from concurrent import futures

from oslo_log import log

LOG = log.getLogger(__name__)

CLONE_NEWNET = 0x40000000
# Calls are a few netlink messages: long enough for a whole table of
# 10,000 pairs on a busy host, short enough not to hang the agent.
TIMEOUT = 30.0

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class Unavailable(Exception):
    """The namespace could not be joined (gone, or no CAP_SYS_ADMIN)."""


class Stuck(Exception):
    """A call into a namespace did not end in time."""


def setns(path: str) -> None:
    """The calling thread into the network namespace at `path`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise Unavailable(f"{path}: {e.strerror}") from e
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise Unavailable(f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


_current = threading.local()


def resource(key: str, factory):
    """A resource of the calling namespace thread (a libnftables context:
    its socket belongs to the namespace), made once, closed when the
    thread ends so that it does not keep a deleted namespace alive."""
    held = _current.resources
    if key not in held:
        held[key] = factory()
    return held[key]


class NamespaceThread:
    """Runs callables inside one network namespace, one at a time."""

    def __init__(self, path: str):
        self.path = path
        self.resources: dict = {}
        self.identity = _identity(path)
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        joined: futures.Future = futures.Future()
        self._thread = threading.Thread(
            target=self._serve,
            args=(joined,),
            name=f"netns-{os.path.basename(path)}",
            daemon=True,
        )
        self._thread.start()
        joined.result(TIMEOUT)  # Unavailable if setns failed

    def _serve(self, joined: futures.Future) -> None:
        try:
            setns(self.path)
        except Exception as e:  # noqa: BLE001  (handed to the caller)
            joined.set_exception(e)
            return
        _current.resources = self.resources
        joined.set_result(None)
        try:
            self._loop()
        finally:
            for r in self.resources.values():
                try:
                    r.close()
                except Exception:  # noqa: BLE001  (ending anyway)
                    LOG.exception("closing %r in %s", r, self.path)

    def _loop(self) -> None:
        while True:
            item = self._calls.get()
            if item is None:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as e:  # noqa: BLE001  (the caller's)
                future.set_exception(e)

    def call(self, fn, *args, timeout: float = TIMEOUT):
        if not self._thread.is_alive():
            raise Unavailable(f"thread of {self.path} ended")
        future: futures.Future = futures.Future()
        self._calls.put((future, fn, args))
        return future.result(timeout)

    def close(self, wait: float = 0) -> None:
        self._calls.put(None)
        if wait:
            self._thread.join(wait)


class NamespaceThreads:
    """The threads of the namespaces under `directory`, by name."""

    def __init__(self, directory: str):
        self.directory = directory
        self._lock = threading.Lock()
        self._threads: dict[str, NamespaceThread] = {}

    def call(self, ns: str, fn, *args, timeout: float = TIMEOUT):
        """fn(*args) on the thread inside namespace `ns`. A call that
        does not end in `timeout` leaves its thread to itself (the next
        call starts another) and raises Stuck: what it did is unknown, so
        the caller fails rather than doing it again another way."""
        t = self._get(ns)
        try:
            return t.call(fn, *args, timeout=timeout)
        except futures.TimeoutError:
            with self._lock:
                if self._threads.get(ns) is t:
                    del self._threads[ns]
            t.close()
            raise Stuck(f"{ns}: no answer in {timeout:g} s") from None

    def _get(self, ns: str) -> NamespaceThread:
        path = os.path.join(self.directory, ns)
        identity = _identity(path)
        if identity is None:
            raise Unavailable(f"no namespace {ns}")
        with self._lock:
            t = self._threads.get(ns)
            if t is not None and t.identity == identity:
                return t
            if t is not None:
                t.close()  # its namespace was deleted and made again
            t = self._threads[ns] = NamespaceThread(path)
            return t

    def drop(self, ns: str) -> None:
        """The namespace goes: its thread ends first, since a thread inside
        a namespace keeps it (and its devices) alive after `ip netns
        del`."""
        with self._lock:
            t = self._threads.pop(ns, None)
        if t is not None:
            t.close(wait=5.0)

    def __len__(self) -> int:
        return len(self._threads)
