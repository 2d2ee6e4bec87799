"""How failures read on stderr: one clear line, never a traceback."""

from __future__ import annotations

import json

from arame.sdk import ArameError, ConnectionFailed, TaskFailed, TaskTimeout
from arame.sdk.errors import AmbiguousName

#: What a command may raise that is the user's situation rather than a bug.
EXPECTED = (ArameError, TaskFailed, TaskTimeout)


def describe(exc: BaseException) -> list[str]:
    if isinstance(exc, ConnectionFailed):
        return [f"Error: {exc.message}", "Hint: check --url or ARAME_URL."]
    if isinstance(exc, AmbiguousName):
        # Not the API's answer: no status or details to show.
        return [f"Error: {exc.message}"]
    if isinstance(exc, ArameError):
        lines = [f"Error ({exc.status_code} {exc.code}): {exc.message}"]
        if exc.details:
            lines.append(f"Details: {json.dumps(exc.details, sort_keys=True)}")
        if exc.status_code == 401:
            lines.append("Hint: run 'arame login' or pass --token.")
        return lines
    if isinstance(exc, TaskFailed):
        return [
            f"Error: task {exc.task.get('id')} failed at step {exc.step}: {exc.message}"
        ]
    if isinstance(exc, TaskTimeout):
        task_id = exc.task.get("id")
        return [
            f"Error: {exc}; it goes on without the CLI.",
            f"Hint: follow it with 'arame task show {task_id}'.",
        ]
    return [f"Error: {exc}"]
