"""Every host's HostState in one scheduler process, kept current without
reading every host row for each decision.

refresh() reads only the rows stamped (hosts.updated_at, indexed) since
the newest change it already saw. Every writer of a host row moves its
stamp: claims, releases and evacuations through the column's onupdate
(it fires on Core UPDATEs too), the collector's heartbeat by setting it,
the API through the ORM; the collector's heartbeat only when the host's
inventory changed.

A row stamped just before another but committed just after it (or
stamped by a clock a little behind) would hide behind that watermark, so
reads look back [scheduler] host_cache_overlap as well. With several
schedulers claiming fast, that window holds every claim of the last
overlap, and decoding all of those rows on every decision cost a
scheduler a third of its CPU. So:
- a refresh reads the rows stamped at or after the newest stamp it saw;
  at most once per overlap, one reads the whole window since the
  previous such read's watermark, less the overlap. A row committed up
  to the overlap after its stamp is seen within about an overlap (it was
  seen at the next refresh before; the claim, not the cache, is the
  truth, and a lost claim re-reads its host);
- that wide read is in two steps: the stamps (the index alone), then
  whole only the rows whose stamp the cache does not know yet.

Every host_cache_full_reload seconds it reads every row again, which
forgets deleted hosts and repairs a change stamped by a clock behind by
more than the overlap.

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
from arame.common.db import models, prepared
from arame.scheduler.host_state import COLUMNS, HostState
from arame.scheduler.ranking import Ranking

# The table's columns, not the mapped class's: a Core statement skips the
# ORM's compile and loading (a sixth of a placement's CPU, in
# bench/scheduler.py's race, went to it for these reads of a few rows).
H = models.Host.__table__.c
_COLUMNS = [
    *(H[attr.property.columns[0].key] for attr in COLUMNS),
    H.id,
    H.updated_at,
]
_WHOLE = 2  # HostState(*row[:-_WHOLE]): the id and the stamp are the cache's
# Every decision runs it: built once (common/db/prepared.py).
_STAMPED_SINCE = sa.select(*_COLUMNS).where(
    H.updated_at >= prepared.bound("seen", models.Timestamp)
)


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
        # Each host row's stamp as last read whole, by id.
        self._stamps: dict[str, dt.datetime] = {}
        # When the last read of the whole overlap ran, and the watermark
        # then (see refresh()).
        self._wide_at = 0.0
        self._wide_seen: dt.datetime | None = None

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
        now = self._clock()
        overlap = CONF.scheduler.host_cache_overlap
        if now - self._wide_at >= overlap:
            # Every row committed since the last wide read, however late
            # after its stamp (up to the overlap): many rows, few moved.
            since = self._wide_seen - dt.timedelta(seconds=overlap)
            self._wide_at, self._wide_seen = now, self._seen
            seen = session.execute(
                sa.select(H.id, H.updated_at).where(H.updated_at >= since)
            ).all()
            moved = [i for i, at in seen if self._stamps.get(i) != at]
            rows = (
                session.execute(
                    sa.select(*_COLUMNS).where(H.id.in_(moved))
                ).all()
                if moved
                else []
            )
        else:
            # The rows stamped since the newest change seen: few, read
            # whole in one statement.
            rows = seen = session.execute(
                _STAMPED_SINCE, prepared.params(seen=self._seen)
            ).all()
        for row in rows:
            self._take(row)
        self.rows_read += len(rows)
        self._advance(seen, started)
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
        self.states = {row.name: HostState(*row[:-_WHOLE]) for row in rows}
        self._stamps = {row.id: row.updated_at for row in rows}
        self._ranking = None
        self._seen = None
        self.rows_read += len(rows)
        self._advance(rows, started)
        self._full_at = self._live_at = self._wide_at = now
        self._wide_seen = self._seen
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
            self._take(row)

    def ranked(self, weigher) -> Ranking:
        """Every host ranked by a weigher that reads the host alone."""
        token = (weigher, weigher.rank_token())
        if self._ranking is None or self._ranking.token != token:
            self._ranking = Ranking(weigher, token, self.states)
        return self._ranking

    def _advance(self, rows, started: dt.datetime) -> None:
        """Move the watermark to the newest stamp of `rows`."""
        newest = max((row.updated_at for row in rows), default=None)
        if newest is None:
            newest = self._seen or started
        elif self._seen is not None:
            newest = max(newest, self._seen)
        self._seen = min(newest, started)

    def _take(self, row) -> None:
        """A row of _COLUMNS, read whole: its state and its stamp."""
        self._put(HostState(*row[:-_WHOLE]))
        self._stamps[row.id] = row.updated_at

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
