"""Every host's HostState in one scheduler process, kept current without
reading every host row for each decision.

refresh() reads only the rows stamped (hosts.updated_at, indexed) at or
after the newest change it already saw, less [scheduler]
host_cache_overlap: a row stamped just before another but committed just
after it is read all the same. Every writer of a host row moves its
stamp: claims, releases and evacuations through the column's onupdate
(it fires on Core UPDATEs too), the collector's heartbeat by setting it,
the API through the ORM; the collector's heartbeat only when the host's
inventory changed. Every host_cache_full_reload seconds it reads every row
again, which forgets deleted hosts and repairs a change stamped by a clock
behind by more than the overlap.

Liveness (last_report_at) moves on every heartbeat without a stamp, so
every [scheduler] host_liveness_interval the cache reads only the hosts
whose last report is older than service_down_time less two intervals (a
few, or none, in a healthy cloud) exactly; every other host reported
after that line, and its cached last_report_at is raised to it: a lower
bound of the truth that keeps it up until the next read.

The cache only guides the choice: the compare-and-set claim (claims.py)
stays the truth, and a lost claim re-reads its host (refresh_host).
Callers hold `lock` across refresh and selection (flows run in threads).
"""

import datetime as dt
import threading
import time
import weakref

import sqlalchemy as sa

from arame.common.conf import CONF
from arame.common.db import models
from arame.scheduler.host_state import COLUMNS, HostState
from arame.scheduler.ranking import Ranking

H = models.Host
_COLUMNS = [*COLUMNS, H.updated_at]


class HostCache:
    def __init__(self, clock=time.monotonic):
        self.lock = threading.RLock()
        self.states: dict[str, HostState] = {}
        self.rows_read = 0  # since creation: what the benchmark reports
        self._clock = clock
        self._full_at: float | None = None
        # The newest stamp read, never later than this process's clock (a
        # host whose clock runs ahead must not hide everyone else's).
        self._seen: dt.datetime | None = None
        self._bind = None  # the engine read from (tests switch databases)
        self._ranking: Ranking | None = None
        self._live_at: float | None = None

    def refresh(self, session) -> int:
        """Bring every host up to date; the number of rows read."""
        bind = session.get_bind()
        if (
            self._full_at is None
            or self._bind() is not bind
            or self._clock() - self._full_at
            >= CONF.scheduler.host_cache_full_reload
        ):
            return self.reload(session)
        started = models.utcnow()
        since = self._seen - dt.timedelta(
            seconds=CONF.scheduler.host_cache_overlap
        )
        rows = session.execute(
            sa.select(*_COLUMNS).where(H.updated_at >= since)
        ).all()
        for row in rows:
            self._put(HostState(*row[:-1]))
        self._advance(rows, started)
        if (
            self._clock() - self._live_at
            >= CONF.scheduler.host_liveness_interval
        ):
            return len(rows) + self._read_liveness(session)
        return len(rows)

    def reload(self, session) -> int:
        """Read every host row (deleted hosts disappear)."""
        started = models.utcnow()
        now = self._clock()
        rows = session.execute(sa.select(*_COLUMNS)).all()
        self.states = {row.name: HostState(*row[:-1]) for row in rows}
        self._ranking = None
        self._seen = None
        self._advance(rows, started)
        self._full_at = self._live_at = now
        self._bind = weakref.ref(session.get_bind())
        return len(rows)

    def _read_liveness(self, session) -> int:
        """Exact last reports of the hosts near or past down; every other
        host's raised to the line they all reported after."""
        now = self._clock()
        interval = CONF.scheduler.host_liveness_interval
        margin = min(2 * interval, CONF.service_down_time / 2)
        line = models.utcnow() - dt.timedelta(
            seconds=CONF.service_down_time - margin
        )
        near = dict(
            session.execute(
                sa.select(H.name, H.last_report_at).where(
                    sa.or_(H.last_report_at.is_(None), H.last_report_at < line)
                )
            ).all()
        )
        # In place: the ranking weighs capacity, not liveness.
        for name, state in self.states.items():
            if name in near:
                state.last_report_at = near[name]
            elif state.last_report_at is None or state.last_report_at < line:
                state.last_report_at = line
        self.rows_read += len(near)
        self._live_at = now
        return len(near)

    def refresh_host(self, session, name: str) -> None:
        """Read one host again (after a claim on it was lost)."""
        row = session.execute(
            sa.select(*_COLUMNS).where(H.name == name)
        ).first()
        self.rows_read += 1
        if row is None:
            self._drop(name)
        else:
            self._put(HostState(*row[:-1]))

    def ranked(self, weigher) -> Ranking:
        """Every host ranked by a weigher that reads the host alone."""
        token = (weigher, weigher.rank_token())
        if self._ranking is None or self._ranking.token != token:
            self._ranking = Ranking(weigher, token, self.states)
        return self._ranking

    def _advance(self, rows, started: dt.datetime) -> None:
        self.rows_read += len(rows)
        newest = max((row.updated_at for row in rows), default=None)
        if newest is None:
            newest = self._seen or started
        elif self._seen is not None:
            newest = max(newest, self._seen)
        self._seen = min(newest, started)

    def _put(self, state: HostState) -> None:
        if self.states.get(state.name) == state:
            return  # read again within the overlap, unchanged
        self.states[state.name] = state
        if self._ranking is not None:
            self._ranking.update(state.name, state)

    def _drop(self, name: str) -> None:
        if (
            self.states.pop(name, None) is not None
            and self._ranking is not None
        ):
            self._ranking.update(name, None)
