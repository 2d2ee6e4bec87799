"""Waiting until something is true, with a deadline: the one way the code
polls.

`wait_for(predicate, timeout, what)` asks `predicate()` until it returns
something true and returns that; `timeout` seconds from the call it raises
WaitTimeout naming `what`. tenacity does the asking. The clock and the
sleep are parameters: a unit test passes a fake clock and waits no real
time, and a caller with an event to be woken by passes the event's
`wait` as the sleep, so a notification cuts the interval short.
"""

import time
from collections.abc import Callable
from typing import Any, TypeVar

import tenacity

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """`what` was still not true when the deadline passed. `last` is the
    predicate's last answer (None if it raised)."""

    def __init__(self, what: str, timeout: float, last: Any = None):
        self.what, self.timeout, self.last = what, timeout, last
        message = f"timed out after {timeout:g} s waiting for {what}"
        # A bare False or None says nothing; a status or a list might.
        if last is not None and not isinstance(last, bool):
            message += f"; last answer: {last!r}"
        super().__init__(message)


def wait_for(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    *,
    interval: float = 0.1,
    ignore: tuple[type[BaseException], ...] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """`predicate()`'s first true answer, asked every `interval` seconds.

    An exception of a type in `ignore` counts as "not yet" (a port that
    refuses connections while a daemon starts); any other one ends the
    wait at once. The last ask happens at the deadline, never after it.
    """
    deadline = clock() + timeout

    def give_up(state: tenacity.RetryCallState) -> T:
        outcome = state.outcome
        if outcome.failed:
            raise WaitTimeout(what, timeout) from outcome.exception()
        raise WaitTimeout(what, timeout, outcome.result())

    retrying = tenacity.Retrying(
        retry=(
            tenacity.retry_if_not_result(bool)
            | tenacity.retry_if_exception_type(ignore)
        ),
        stop=lambda state: clock() >= deadline,
        wait=lambda state: max(0.0, min(interval, deadline - clock())),
        sleep=sleep,
        retry_error_callback=give_up,
    )
    return retrying(predicate)
