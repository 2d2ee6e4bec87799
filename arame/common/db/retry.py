"""Transient database failures, retried around a whole transaction.

What may be retried: MariaDB's deadlock (1213, which is also how Galera
reports a certification failure) and lock wait timeout (1205), a Galera
node that is not ready (1047: joining, or cut off from the primary
component), a server shutting down (1053) or a connection killed (1927),
and a connection lost or refused (2003, 2006, 2013, 2055, and any error
for which SQLAlchemy invalidated the connection: a failover, a restarted
server); SQLite's busy database. The transaction was rolled back in each
case, so running it again from its start is safe. tenacity does the loop:
jittered exponential backoff, bounded by [database] retry_seconds.

A lost connection during COMMIT leaves it unknown whether the commit
happened: engine.py asks the database again (commit_probe.py) and either
carries on (it had committed) or raises a transient error that is safe to
retry (it had not); when it cannot tell, it counts the transaction as
committed, so that callers that retry (api/db_retry.py) never run a
request again once one of its transactions may have committed
(committed()).
"""

import contextvars
import logging
from collections.abc import Callable

import sqlalchemy as sa
import tenacity
from oslo_log import log

from arame.common.conf import CONF

LOG = log.getLogger(__name__)

MYSQL_TRANSIENT = frozenset(
    {1047, 1053, 1205, 1213, 1927, 2003, 2006, 2013, 2055}
)
# A connection that broke: a statement sent on it may or may not have run.
MYSQL_LOST = frozenset({2006, 2013, 2055})


def lost_connection(exc: BaseException) -> bool:
    """The connection broke under a statement (a raw DBAPI error or
    SQLAlchemy's wrapper of one): if that was COMMIT, its outcome is
    unknown. Not a deadlock or a refusal: those leave no doubt."""
    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig
    args = getattr(exc, "args", ()) or ()
    if args and isinstance(args[0], int) and args[0] in MYSQL_LOST:
        return True
    # PyMySQL's "already closed" (InterfaceError 0) after a broken pipe.
    if type(exc).__name__ == "InterfaceError":
        return True
    return "lost connection" in str(exc).lower()


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


def retrying(
    seconds: float | None = None, unless: Callable[[], bool] | None = None
) -> tenacity.Retrying:
    """`for attempt in retrying(): with attempt: <one transaction>`;
    never again once `unless()` is true (it committed meanwhile)."""
    limit = CONF.database.retry_seconds if seconds is None else seconds
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(
            lambda e: is_transient(e) and not (unless and unless())
        ),
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


def counting() -> bool:
    return _commits.get() is not None


def commits() -> int:
    """How many commits were noted so far (0 when not counting): compare
    two readings to know whether what ran between committed."""
    return len(_commits.get() or ())
