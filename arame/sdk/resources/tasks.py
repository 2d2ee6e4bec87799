from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import tenacity

from arame.sdk.errors import (
    ArameError,
    ConnectionFailed,
    NotFound,
    TaskFailed,
    TaskTimeout,
)
from arame.sdk.resources.base import Manager
from arame.sdk.session import Session

FINAL_STATUSES = frozenset({"done", "failed"})


class TaskManager(Manager):
    """Tasks track every asynchronous change.

    ``clock`` and ``sleep`` are what ``wait`` measures and passes time with;
    tests swap in a fake clock so waiting costs no real time.
    ``long_poll``: how long one request of ``wait`` may be held by the
    server until the task changes (``GET /v1/tasks/{id}?wait=``); 0 polls.
    """

    path = "/v1/tasks"

    def __init__(
        self,
        session: Session,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        long_poll: float = 20.0,
    ) -> None:
        super().__init__(session)
        self.clock = clock
        self.sleep = sleep
        self.long_poll = long_poll

    def get(self, task_id: str, wait: float | None = None) -> dict[str, Any]:
        """The task; with ``wait`` (seconds), held by the server until the
        task changes or ends, at most that long."""
        if not wait or wait <= 0:
            return self._get(task_id)
        try:
            return self._session.get(
                self._item_path(task_id),
                params={"wait": round(wait, 3)},
                # The answer may take the whole wait: the read must not
                # time out first.
                timeout=wait + 30.0,
            )
        except ArameError as exc:
            if exc.status_code == 404 and not isinstance(exc, NotFound):
                raise NotFound(exc.message, exc.code, exc.details) from None
            raise

    def list(
        self,
        resource_id: str | None = None,
        *,
        all: bool = False,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """Newest first; the caller's account, or one resource's history."""
        return self._list(all=all, resource_id=resource_id, **filters)

    def wait(
        self,
        task_id: str,
        timeout: float = 600,
        interval: float = 0.2,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Wait until the task is done and return it.

        Each request is a long poll (the server answers when the task
        changes or ends); against a server that answers at once, the
        requests are ``interval`` apart. ``on_update`` gets the task after
        every answer (to show progress). Raises TaskFailed if it fails and
        TaskTimeout (a TimeoutError) if it is still going ``timeout``
        seconds from now.
        """
        deadline = self.clock() + timeout
        seen: dict[str, Any] = {"key": None, "held": False}

        def poll() -> dict[str, Any]:
            hold = max(0.0, min(self.long_poll, deadline - self.clock()))
            t0 = self.clock()
            task = self.get(task_id, wait=hold)
            key = (task["status"], task.get("step"), task.get("updated_at"))
            # Held (or changed): the server long-polls, ask again at once.
            # Unchanged at once: it does not (an older server); pause.
            seen["held"] = key != seen["key"] or (
                self.clock() - t0 >= min(hold, interval)
            )
            seen["key"] = key
            if on_update is not None:
                on_update(task)
            return task

        def pause(state: tenacity.RetryCallState) -> float:
            if state.outcome is not None and not state.outcome.failed:
                if seen["held"]:
                    return 0.0
            return max(0.0, min(interval, deadline - self.clock()))

        def give_up(state: tenacity.RetryCallState) -> None:
            outcome = state.outcome
            assert outcome is not None  # called after at least one attempt
            if outcome.failed:
                error = outcome.exception()
                assert isinstance(error, BaseException)
                raise error
            raise TaskTimeout(outcome.result(), timeout)

        retrying = tenacity.Retrying(
            # A dropped connection during a long wait should not lose the
            # wait; API errors (404, 401) are final and raise at once.
            retry=tenacity.retry_if_result(
                lambda task: task["status"] not in FINAL_STATUSES
            )
            | tenacity.retry_if_exception_type(ConnectionFailed),
            stop=lambda state: self.clock() >= deadline,
            # Never sleep past the deadline: the last poll happens right at it.
            wait=pause,
            sleep=self.sleep,
            retry_error_callback=give_up,
        )
        task = retrying(poll)
        if task["status"] == "failed":
            raise TaskFailed(task)
        return task
