"""Exceptions raised by the SDK.

Callers can catch ``ArameError`` for anything the API (or the way to it)
refused, and the task exceptions for asynchronous work that did not finish well.
"""

from __future__ import annotations

from typing import Any


class ArameError(Exception):
    """The API answered with an error status (or could not be reached)."""

    def __init__(
        self,
        status_code: int | None,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(status_code, code, message, details)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.status_code} {self.code}: {self.message}"


class ConnectionFailed(ArameError):
    """No HTTP answer at all: refused connection, DNS failure, timeout."""

    def __init__(self, message: str) -> None:
        super().__init__(None, "connection_failed", message)

    def __str__(self) -> str:
        return self.message


class NotFound(ArameError):
    """No such resource, or none of that name, among those the caller can
    see (the API's 404, or a name the SDK looked up in vain)."""

    def __init__(
        self,
        message: str,
        code: str = "not_found",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(404, code, message, details)


class AmbiguousName(ArameError):
    """Several resources the caller can see share the name given where one
    was meant; ``candidates`` are their ids (give one of them instead)."""

    def __init__(self, kind: str, name: str, candidates: list[str]) -> None:
        super().__init__(
            None,
            "ambiguous_name",
            f"{len(candidates)} {kind}s are named {name!r}: "
            f"{', '.join(candidates)}; give the id of the one you mean",
            {"kind": kind, "name": name, "candidates": candidates},
        )
        self.kind = kind
        self.name = name
        self.candidates = candidates

    def __str__(self) -> str:
        return self.message


class TaskFailed(Exception):
    """A task ended in ``failed``; ``task`` is its last known state."""

    def __init__(self, task: dict[str, Any]) -> None:
        self.task = task
        error = task.get("error") or {}
        self.step = error.get("step")
        self.message = error.get("message") or "no error message"
        super().__init__(
            f"task {task.get('id')} failed at step {self.step}: {self.message}"
        )


class TaskTimeout(TimeoutError):
    """A task was still not finished when the caller's deadline passed."""

    def __init__(self, task: dict[str, Any], timeout: float) -> None:
        self.task = task
        self.timeout = timeout
        super().__init__(
            f"task {task.get('id')} still {task.get('status')} after {timeout:g} s"
        )
