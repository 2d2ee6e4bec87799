"""Transient database failures, retried around a whole transaction.

What may be retried: MariaDB's deadlock (1213, which is also how Galera
reports a certification failure) and lock wait timeout (1205), and a
connection lost or refused (2003, 2006, 2013, and any error for which
SQLAlchemy invalidated the connection: a failover, a restarted server);
SQLite's busy database. The transaction was rolled back in each case, so
running it again from its start is safe. tenacity does the loop: jittered
exponential backoff, bounded by [database] retry_seconds.

A lost connection during COMMIT leaves it unknown whether the commit
happened; callers that retry (api/db_retry.py) therefore never retry a
request once one of its transactions has committed (committed()).
"""

import contextvars
import logging

import sqlalchemy as sa
import tenacity
from oslo_log import log

from arame.common.conf import CONF

LOG = log.getLogger(__name__)

MYSQL_TRANSIENT = frozenset({1205, 1213, 2003, 2006, 2013})


def is_transient(exc: BaseException) -> bool:
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    args = getattr(orig, "args", ()) or ()
    if args and isinstance(args[0], int) and args[0] in MYSQL_TRANSIENT:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "lost connection" in text


def retrying(seconds: float | None = None) -> tenacity.Retrying:
    """`for attempt in retrying(): with attempt: <one transaction>`."""
    limit = CONF.database.retry_seconds if seconds is None else seconds
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_transient),
        stop=tenacity.stop_after_delay(limit),
        wait=tenacity.wait_random_exponential(multiplier=0.05, max=2.0),
        before_sleep=tenacity.before_sleep_log(LOG.logger, logging.WARNING),
        reraise=True,
    )


def transaction(fn, *args, **kwargs):
    """fn(session, *args, **kwargs) in one transaction, run again while
    it fails transiently."""
    from arame.common.db import engine as db_engine

    for attempt in retrying():
        with attempt, db_engine.session() as s:
            return fn(s, *args, **kwargs)
    raise AssertionError("unreachable: tenacity reraises")


# -- commits seen by one request (api/db_retry.py) ---------------------------
_commits: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "arame_db_commits", default=None
)


def count_commits() -> contextvars.Token:
    """From here on (in this context and the threads it hands work to),
    note every commit."""
    return _commits.set([])


def stop_counting(token: contextvars.Token) -> None:
    _commits.reset(token)


def note_commit() -> None:
    seen = _commits.get()
    if seen is not None:
        seen.append(True)


def committed() -> bool:
    return bool(_commits.get())
