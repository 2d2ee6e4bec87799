from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import tenacity

from arame.sdk.errors import ConnectionFailed, TaskFailed, TaskTimeout
from arame.sdk.resources.base import Manager
from arame.sdk.session import Session

FINAL_STATUSES = frozenset({"done", "failed"})


class TaskManager(Manager):
    """Tasks track every asynchronous change.

    ``clock`` and ``sleep`` are what ``wait`` measures and passes time with;
    tests swap in a fake clock so waiting costs no real time.
    """

    path = "/v1/tasks"

    def __init__(
        self,
        session: Session,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(session)
        self.clock = clock
        self.sleep = sleep

    def get(self, task_id: str) -> dict[str, Any]:
        return self._get(task_id)

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
        """Poll the task until it is done and return it.

        ``on_update`` gets the task after every poll (to show progress).
        Raises TaskFailed if it fails and TaskTimeout (a TimeoutError) if it
        is still going ``timeout`` seconds from now.
        """
        deadline = self.clock() + timeout

        def poll() -> dict[str, Any]:
            task = self.get(task_id)
            if on_update is not None:
                on_update(task)
            return task

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
            wait=lambda state: max(
                0.0, min(interval, deadline - self.clock())
            ),
            sleep=self.sleep,
            retry_error_callback=give_up,
        )
        task = retrying(poll)
        if task["status"] == "failed":
            raise TaskFailed(task)
        return task
