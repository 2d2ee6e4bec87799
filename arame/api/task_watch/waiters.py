"""The requests of one API process waiting on tasks, and what wakes them:
an end announced on the bus (ended()) or the batched recheck (a thread
that, while anyone waits, reads the status, step and time of every
watched task in one statement and wakes those that changed)."""

import asyncio
import collections
import dataclasses
import threading
import time

import sqlalchemy as sa
from oslo_log import log

from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

LOG = log.getLogger(__name__)

_RECENT_SECONDS = 10.0


@dataclasses.dataclass(eq=False)
class _Waiter:
    task_id: str
    seen: tuple
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event

    def wake(self) -> None:
        self.loop.call_soon_threadsafe(self.event.set)


def change_key(task: dict) -> tuple:
    """What a waiter compares: a new step, status or write of the task."""
    return (task["status"], task["step"], task["updated_at"])


class Waiters:
    def __init__(self, recheck_interval: float | None = None):
        self._lock = threading.Lock()
        self._by_task: dict[str, list[_Waiter]] = collections.defaultdict(list)
        self._someone = threading.Condition(self._lock)
        self._interval = recheck_interval
        self._stopping = False
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        # Ends heard in the last seconds: a task can end between a
        # request's read and its registering, and its cast come between.
        self._recent: collections.OrderedDict[str, float] = (
            collections.OrderedDict()
        )

    # -- the requests' side ---------------------------------------------
    async def wait(self, task: dict, timeout: float) -> None:
        """Return when the task `task` (as the request read it) has
        changed or ended, or after `timeout` seconds."""
        self._ensure_thread()
        w = _Waiter(
            task["id"],
            change_key(task),
            asyncio.get_running_loop(),
            asyncio.Event(),
        )
        with self._lock:
            if not self._by_task:
                self._someone.notify()
            self._by_task[w.task_id].append(w)
            if w.task_id in self._recent:
                w.event.set()
        try:
            await asyncio.wait_for(w.event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                waiting = self._by_task.get(w.task_id, [])
                if w in waiting:
                    waiting.remove(w)
                if not waiting:
                    self._by_task.pop(w.task_id, None)

    # -- what wakes them ------------------------------------------------
    def ended(self, task_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            waiting = list(self._by_task.get(task_id, ()))
            self._recent[task_id] = now
            self._recent.move_to_end(task_id)
            while self._recent and next(iter(self._recent.values())) < (
                now - _RECENT_SECONDS
            ):
                self._recent.popitem(last=False)
        for w in waiting:
            w.wake()

    def recheck(self) -> int:
        """One read of every watched task; wakes the changed. -> woken."""
        with self._lock:
            watched = {t: list(ws) for t, ws in self._by_task.items()}
        if not watched:
            return 0
        T = models.Task
        with db_engine.session() as s:
            rows = s.execute(
                sa.select(T.id, T.status, T.step, T.updated_at).where(
                    T.id.in_(list(watched))
                )
            ).all()
        now = {r.id: (r.status, r.step, r.updated_at) for r in rows}
        woken = 0
        for task_id, waiting in watched.items():
            for w in waiting:
                if now.get(task_id) != w.seen:
                    w.wake()
                    woken += 1
        return woken

    # -- the recheck thread ---------------------------------------------
    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None or self._stopping:
                return
            self._thread = threading.Thread(
                target=self._run, name="task-wait-recheck", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                # Asleep while nobody waits: an idle API reads nothing.
                while not self._by_task and not self._stopping:
                    self._someone.wait()
                if self._stopping:
                    return
                interval = self._interval
            if interval is None:
                interval = CONF.api.task_wait_recheck_interval
            if self._stopped.wait(interval):
                return
            try:
                self.recheck()
            except Exception:
                LOG.exception("rechecking the tasks being waited on")

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._stopped.set()
            self._someone.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)


_waiters: Waiters | None = None
_waiters_lock = threading.Lock()


def get() -> Waiters:
    global _waiters
    with _waiters_lock:
        if _waiters is None:
            _waiters = Waiters()
        return _waiters


def reset() -> None:
    """Stop and forget the process's waiters (tests)."""
    global _waiters
    with _waiters_lock:
        old, _waiters = _waiters, None
    if old is not None:
        old.stop()
