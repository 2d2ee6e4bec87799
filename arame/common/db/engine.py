"""One engine and session factory per process, from [database] connection.

MySQL pool: no ping before each checkout (a round trip per transaction);
connections are recycled after an hour (HAProxy's idle timeouts are
longer), and a lost connection invalidates the whole pool (SQLAlchemy
does so on any disconnect error), so after a failover each process meets
the dead writer once, in a transaction its caller runs again
(retry.py). A COMMIT whose connection broke is asked again
(commit_probe.py).
"""

import contextlib
import threading

import sqlalchemy as sa
from sqlalchemy import event, orm

from arame.common.conf import CONF
from arame.common.db import commit_probe, retry

_lock = threading.Lock()
_engine: sa.Engine | None = None
_sessionmaker: orm.sessionmaker | None = None


def create_engine(url: str, echo: bool = False) -> sa.Engine:
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # pysqlite's own BEGIN handling defers the write lock, and an
            # upgrade from read to write under WAL fails at once instead of
            # waiting; we issue BEGIN IMMEDIATE ourselves (below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = sa.create_engine(
        url,
        echo=echo,
        pool_recycle=3600,
        pool_size=CONF.database.pool_size,
        max_overflow=CONF.database.max_overflow,
        isolation_level=commit_probe.ISOLATION,
    )
    commit_probe.install(engine)
    return engine


def get_engine() -> sa.Engine:
    global _engine, _sessionmaker
    with _lock:
        if _engine is None:
            _engine = create_engine(
                CONF.database.connection, CONF.database.echo
            )
            _sessionmaker = orm.sessionmaker(_engine, expire_on_commit=False)
        return _engine


def reset() -> None:
    """Forget the engine (tests, and after a config reload)."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = _sessionmaker = None


@contextlib.contextmanager
def session(replayable: bool = False):
    """A session in one transaction: committed on success, else rolled back.

    `replayable`: running it again does no harm (a get-or-create), so its
    commit does not stop a request from running again (retry.py)."""
    get_engine()
    with _sessionmaker() as s:
        s.begin()
        try:
            yield s
            s.flush()
        except BaseException:
            s.rollback()
            raise
        try:
            with commit_probe.armed(commit_probe.of_session(s)):
                s.commit()
        except sa.exc.DBAPIError as e:
            if (
                s.info.get("wrote")
                and not replayable
                and retry.lost_connection(e)
                and not commit_probe.ruled_out(e)
            ):
                # Perhaps committed and nothing tells: never run again.
                retry.note_commit()
            raise
        if s.info.get("wrote") and not replayable:
            retry.note_commit()
        for callback in s.info.get("on_commit", ()):
            callback()


# Which transactions wrote: a request that only read may run again.
@event.listens_for(orm.Session, "after_flush")
def _flushed(s, _ctx) -> None:
    s.info["wrote"] = True
    commit_probe.note_flush(s)


@event.listens_for(orm.Session, "do_orm_execute")
def _executed(state) -> None:
    if not state.is_select:
        state.session.info["wrote"] = True


def on_commit(s, callback) -> None:
    """Call `callback` once the transaction of `s` (from session()) has
    committed; never if it rolls back."""
    s.info.setdefault("on_commit", []).append(callback)
