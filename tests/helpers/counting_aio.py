"""arame-all with counters: every SQL statement any engine runs and every
RPC message or notification any client sends, by what sent it.

    python -m tests.helpers.counting_aio --config-file arame.conf COUNTS

On SIGUSR1 the process writes its counts so far to the file COUNTS (JSON,
replaced atomically), so a test can take a reading before and after the
requests it makes and charge the difference to them.
"""

import collections
import json
import os
import signal
import sys
import threading

import sqlalchemy as sa

import arame.cmd  # noqa: F401

_lock = threading.Lock()
_counts: collections.Counter = collections.Counter()


def _bump(key: str) -> None:
    with _lock:
        _counts[key] += 1


# ARAME_COUNT_SQL_DETAIL=1 also counts each statement under the line of
# Arame's code that ran it (sql@file:line verb table), to see where a
# cycle's statements come from.
_DETAIL = os.environ.get("ARAME_COUNT_SQL_DETAIL") == "1"


def _where() -> str:
    f = sys._getframe(2)
    while f is not None:
        name = f.f_code.co_filename
        if "/arame/" in name and "/arame/common/db/engine" not in name:
            short = name.rsplit("/arame/", 1)[1]
            return f"{short}:{f.f_lineno}:{f.f_code.co_name}"
        f = f.f_back
    return "?"


def _on_statement(conn, cursor, statement, params, context, executemany):
    verb = statement.lstrip().split(None, 1)[0].upper()
    _bump("sql")
    _bump(f"sql:{verb}")
    if _DETAIL:
        words = statement.split()
        table = next(
            (
                words[i + 1]
                for i, w in enumerate(words[:-1])
                if w.upper() in ("FROM", "INTO", "UPDATE")
            ),
            "",
        )
        _bump(f"sql@{_where()} {verb} {table}")


def _wrap(cls, name: str, key: str):
    original = getattr(cls, name)

    def counted(self, ctxt, method, **kw):
        _bump("rpc")
        _bump(f"{key}:{self.target.topic}.{method}")
        return original(self, ctxt, method, **kw)

    setattr(cls, name, counted)


def _wrap_notify(notifier):
    original = notifier.Notifier._notify

    def counted(self, ctxt, event_type, payload, priority, *a, **kw):
        _bump("notifications")
        return original(self, ctxt, event_type, payload, priority, *a, **kw)

    notifier.Notifier._notify = counted


def install(counts_path: str) -> None:
    # Imported here, after arame.cmd (above) has selected oslo.service's
    # threading backend, which must happen before oslo.messaging loads.
    from oslo_messaging.notify import notifier
    from oslo_messaging.rpc import client as rpc_client

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", _on_statement)
    _wrap(rpc_client._BaseCallContext, "cast", "cast")
    _wrap(rpc_client._BaseCallContext, "call", "call")
    _wrap_notify(notifier)

    def dump(_signum, _frame):
        with _lock:
            data = dict(_counts)
        tmp = counts_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f)
        os.replace(tmp, counts_path)

    signal.signal(signal.SIGUSR1, dump)


def main() -> int:
    counts_path = sys.argv.pop()
    install(counts_path)
    from arame.cmd import all as aio

    return aio.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
