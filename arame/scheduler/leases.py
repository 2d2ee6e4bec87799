"""Task leases: which scheduler runs a task, and until when.

A scheduler that begins a task writes itself as its owner with a lease a
few seconds long, and renews the leases of every task it runs in one
statement; a flow that ends or gives up drops out of the renewal. When a
lease lapses (its scheduler was killed, its host lost, or its flow gave up
on a database failure), the sweep of any scheduler adopts the task with a
compare-and-set and resumes it (sweeper.py). Every write a flow makes to
its task checks that it still owns it (fence()), so a scheduler that was
only paused past its lease stops instead of racing its successor.

Clocks: leases compare the schedulers' own clocks; they must agree within
a lease's margin over its renewal (NTP does far better).
"""

import datetime as dt
import functools
import os
import socket
import threading
import uuid

import sqlalchemy as sa

from arame.common import states
from arame.common.conf import CONF
from arame.common.db import models, prepared

T = models.Task


class LeaseLost(Exception):
    """Another scheduler adopted this task: stop without touching it."""


def make_owner() -> str:
    """Unique per process: host, pid and a random part (a pid is reused)."""
    host = CONF.host or socket.gethostname()
    return f"{host[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _until(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=CONF.scheduler.task_lease)


class Leases:
    """The tasks this process holds."""

    def __init__(self, owner: str | None = None):
        self.owner = owner or make_owner()
        self._lock = threading.Lock()
        self._held: set[str] = set()

    # -- taking a task -------------------------------------------------------
    def take(self, s, task_id: str, **values) -> bool:
        """queued -> running, owned by us (a cast, or a cast the sweep
        found lost), with `values` (the step a flow began in the same
        transaction); False if it is no longer queued."""
        now = models.utcnow()
        rc = s.execute(
            _take(tuple(sorted(values))),
            prepared.params(
                id=task_id,
                owner=self.owner,
                until=_until(now),
                now=now,
                **values,
            ),
        ).rowcount
        return rc == 1

    def adopt(self, s, task_id: str, now: dt.datetime) -> bool:
        """A running task whose lease lapsed becomes ours."""
        rc = s.execute(
            sa.update(T)
            .where(
                T.id == task_id,
                T.status == "running",
                sa.or_(T.lease_until.is_(None), T.lease_until < now),
            )
            .values(
                owner=self.owner,
                lease_until=_until(now),
                attempts=T.attempts + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        return rc == 1

    def hold(self, task_id: str) -> None:
        with self._lock:
            self._held.add(task_id)

    def drop(self, task_id: str) -> None:
        with self._lock:
            self._held.discard(task_id)

    def held(self) -> list[str]:
        with self._lock:
            return list(self._held)

    # -- keeping them ----------------------------------------------------------
    def renew(self, s) -> int:
        """One statement for every task this process runs."""
        ids = self.held()
        if not ids:
            return 0
        return s.execute(
            sa.update(T)
            .where(T.id.in_(ids), T.owner == self.owner, T.status == "running")
            .values(lease_until=_until(models.utcnow()))
            .execution_options(synchronize_session=False)
        ).rowcount

    def fence(self, s, task_id: str, **values) -> None:
        """Write `values` to the task if we still own it; LeaseLost (the
        caller's transaction rolls back) if another scheduler adopted it."""
        rc = s.execute(
            _fence(tuple(sorted(values))),
            prepared.params(
                id=task_id, owner=self.owner, now=models.utcnow(), **values
            ),
        ).rowcount
        if rc != 1:
            self.drop(task_id)
            raise LeaseLost(task_id)

    def end(self, s, task_id: str, status: str, **values) -> bool:
        """The task's end, fenced, in one statement: False if it had
        ended already (the reaper), LeaseLost if another scheduler
        adopted it (the read that tells which runs only then)."""
        rc = s.execute(
            _end(status, tuple(sorted(values))),
            prepared.params(
                id=task_id, owner=self.owner, now=models.utcnow(), **values
            ),
        ).rowcount
        if rc == 1:
            return True
        if s.scalar(sa.select(T.owner).where(T.id == task_id)) != self.owner:
            self.drop(task_id)
            raise LeaseLost(task_id)
        return False


# Every flow step runs these: built once (common/db/prepared.py).
_T = T.__table__


@functools.cache
def _take(keys: tuple[str, ...]):
    return (
        sa.update(_T)
        .where(_T.c.id == prepared.bound("id"), _T.c.status == "queued")
        .values(
            status="running",
            owner=prepared.bound("owner"),
            lease_until=prepared.bound("until"),
            attempts=_T.c.attempts + 1,
            updated_at=prepared.bound("now"),
            **prepared.setting(keys),
        )
    )


@functools.cache
def _fence(keys: tuple[str, ...]):
    return (
        sa.update(_T)
        .where(
            _T.c.id == prepared.bound("id"),
            _T.c.owner == prepared.bound("owner"),
        )
        .values(updated_at=prepared.bound("now"), **prepared.setting(keys))
    )


@functools.cache
def _end(status: str, keys: tuple[str, ...]):
    return (
        sa.update(_T)
        .where(
            _T.c.id == prepared.bound("id"),
            _T.c.owner == prepared.bound("owner"),
            _T.c.status.in_(states.TASK.sources(status)),
        )
        .values(
            status=status,
            updated_at=prepared.bound("now"),
            **prepared.setting(keys),
        )
    )
