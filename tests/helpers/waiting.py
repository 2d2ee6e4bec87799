"""Waiting in a test: arame.common.waiting's wait, failing as a test fails.

A condition not met in time is an AssertionError (pytest reports a failed
test, not an error in it) that names what was awaited; when `what` is not
given, the predicate and the line that waited stand for it.
"""

import sys

from arame.common.waiting import WaitTimeout, wait_for


def _caller(depth: int = 2) -> str:
    frame = sys._getframe(depth)
    return f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno}"


def wait_until(
    predicate,
    timeout: float = 10.0,
    what: str | None = None,
    *,
    interval: float = 0.1,
    ignore=(),
    clock=None,
    sleep=None,
):
    """`predicate()`'s first true answer; AssertionError after `timeout`
    seconds. `clock` and `sleep` as in arame.common.waiting.wait_for."""
    what = what or (
        f"{getattr(predicate, '__qualname__', predicate)} "
        f"(waited at {_caller()})"
    )
    kw = {k: v for k, v in (("clock", clock), ("sleep", sleep)) if v}
    try:
        return wait_for(
            predicate, timeout, what, interval=interval, ignore=ignore, **kw
        )
    except WaitTimeout as e:
        raise AssertionError(str(e)) from e.__cause__
