"""Did the COMMIT happen? Asked again when the connection broke under it.

A writer that dies (a Galera node killed, a failover) while our COMMIT is
on the wire leaves its outcome unknown: the transaction may be committed
on the cluster, or gone. Running it again could make an instance twice;
giving up would answer 503 for work that was done. So engine.py notes, for
each transaction that inserted an ORM row, that row's primary key (the
ids are generated before the INSERT, so the key is ours alone), and when
COMMIT fails with a lost connection, the same DBAPI connection is opened
again (through the proxy: the new writer) and asked whether the row is
there, after `wsrep_sync_wait = 1` (the node first applies everything the
cluster had committed when the question arrives). Found: the commit
happened, and the caller carries on as if COMMIT had answered. Not found:
the error is raised, marked ruled out (ruled_out()), and running the
transaction again is safe.

What it cannot tell (no row inserted, or no answer within [database]
retry_seconds) stays unknown: engine.py then counts the transaction as
committed, so that nothing runs it again blindly.

Limit: a node that is alive but cut from its clients (HAProxy closing the
sessions of a node it marked down while it still works) may finish the
COMMIT after the question is answered; a SIGKILLed or partitioned node
cannot (the cluster's view change decides before the new writer answers).
"""

import contextlib
import contextvars
import time
from typing import NamedTuple

import sqlalchemy as sa
from oslo_log import log

from arame.common.conf import CONF
from arame.common.db import retry

LOG = log.getLogger(__name__)

ISOLATION = "READ COMMITTED"
_KEY = "arame_commit_probe"


class Probe(NamedTuple):
    table: str
    columns: tuple[str, ...]
    values: tuple


_armed: contextvars.ContextVar[Probe | None] = contextvars.ContextVar(
    "arame_commit_probe", default=None
)


def note_flush(s) -> None:
    """after_flush: the first row this transaction inserted, by key."""
    if _KEY in s.info:
        return
    for obj in s.new:
        mapper = sa.inspect(obj).mapper
        cols = mapper.primary_key
        values = mapper.primary_key_from_instance(obj)
        if any(v is None for v in values):
            continue
        if any(c.table is not cols[0].table for c in cols):
            continue
        s.info[_KEY] = Probe(
            cols[0].table.name, tuple(c.name for c in cols), tuple(values)
        )
        return


def of_session(s) -> Probe | None:
    return s.info.get(_KEY)


@contextlib.contextmanager
def armed(probe: Probe | None):
    """The COMMIT inside may be asked again with `probe`."""
    token = _armed.set(probe)
    try:
        yield
    finally:
        _armed.reset(token)


def ruled_out(exc: BaseException) -> bool:
    """The probe found the transaction not committed: safe to run again."""
    orig = getattr(exc, "orig", exc)
    return bool(getattr(orig, "arame_not_committed", False))


def install(engine: sa.Engine) -> None:
    """Wrap the MySQL dialect's COMMIT of `engine`."""
    dialect = engine.dialect
    plain = dialect.do_commit

    def do_commit(dbapi_conn) -> None:
        try:
            plain(dbapi_conn)
        except Exception as e:
            probe = _armed.get()
            if probe is None or not retry.lost_connection(e):
                raise
            found = committed(dbapi_conn, dialect, probe)
            if found is None:
                raise
            if not found:
                e.arame_not_committed = True
                raise
            LOG.warning(
                "COMMIT lost its connection (%s) but the transaction had "
                "committed (%s %s found): carrying on",
                e,
                probe.table,
                probe.values,
            )

    dialect.do_commit = do_commit


def committed(dbapi_conn, dialect, probe: Probe, limit=None) -> bool | None:
    """Is `probe`'s row there? Asked on `dbapi_conn` opened again, until
    the database answers or `limit` seconds pass (None: no answer)."""
    limit = CONF.database.retry_seconds if limit is None else limit
    deadline = time.monotonic() + limit
    delay = 0.05
    where = " AND ".join(f"`{c}` = %s" for c in probe.columns)
    query = f"SELECT 1 FROM `{probe.table}` WHERE {where}"  # noqa: S608
    while True:
        try:
            dbapi_conn.ping(reconnect=True)
            dialect.set_isolation_level(dbapi_conn, ISOLATION)
            cur = dbapi_conn.cursor()
            try:
                _sync_wait(cur, "1")
                cur.execute(query, probe.values)
                found = cur.fetchone() is not None
                _sync_wait(cur, "DEFAULT")
            finally:
                cur.close()
            dbapi_conn.rollback()
            return found
        except Exception as e:
            if time.monotonic() + delay > deadline:
                LOG.warning(
                    "cannot tell whether a COMMIT happened (%s): %s",
                    probe,
                    e,
                )
                return None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _sync_wait(cur, value: str) -> None:
    # Galera's causal read; a server without Galera refuses the variable
    # or ignores it, and reads its own writes anyway.
    try:
        cur.execute(f"SET SESSION wsrep_sync_wait = {value}")
    except Exception as e:
        if retry.lost_connection(e):
            raise
