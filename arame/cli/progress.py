"""Showing a task's events while the CLI waits for it.

Progress goes to stderr so that stdout stays clean for ``-f json``. A terminal
gets colour and a spinner through rich; a pipe or a log file gets plain lines.
"""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console

_STATUS_STYLE = {"done": "green", "failed": "bold red", "running": "yellow"}


def format_event(event: dict[str, Any]) -> str:
    """``boot: done on hv-01 (1200 ms) - message`` with absent parts left out."""
    line = f"{event.get('step')}: {event.get('status')}"
    if event.get("host"):
        line += f" on {event['host']}"
    if event.get("duration_ms") is not None:
        line += f" ({event['duration_ms']} ms)"
    if event.get("message"):
        line += f" - {event['message']}"
    return line


def is_node_event(event: dict[str, Any]) -> bool:
    # A parent task (a unit's nodes) has one `node <name>` event per node
    # whose own task ended.
    return str(event.get("step") or "").startswith("node ")


class PlainProgress:
    """``total``: the nodes a parent task waits for; their events then
    count up (``[2/5] node web-2: done on hv1``)."""

    def __init__(self, stream: TextIO, total: int | None = None) -> None:
        self._stream = stream
        self._shown = 0
        self.total = total
        self.nodes_done = 0

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def update(self, task: dict[str, Any]) -> None:
        # Events are an append-only log, so what is new is what lies past
        # the ones already shown.
        events = task.get("events") or []
        for event in events[self._shown :]:
            self._write(self._line(event), event)
        self._shown = max(self._shown, len(events))

    def _line(self, event: dict[str, Any]) -> str:
        if self.total is None or not is_node_event(event):
            return format_event(event)
        self.nodes_done += 1
        return f"[{self.nodes_done}/{self.total}] {format_event(event)}"

    def _write(self, line: str, event: dict[str, Any]) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()


class RichProgress(PlainProgress):
    def __init__(self, stream: TextIO, total: int | None = None) -> None:
        super().__init__(stream, total)
        self._console = Console(file=stream, highlight=False)
        self._status = self._console.status("waiting for the task")

    def __enter__(self) -> RichProgress:
        self._status.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._status.stop()

    def update(self, task: dict[str, Any]) -> None:
        super().update(task)
        status = f"task {task.get('id')}: {task.get('status')}"
        if self.total is not None:
            status += f", {self.nodes_done}/{self.total} nodes"
        self._status.update(status)

    def _write(self, line: str, event: dict[str, Any]) -> None:
        style = _STATUS_STYLE.get(str(event.get("status")), "")
        self._console.print(line, style=style, markup=False)


def progress_for(stream: TextIO, total: int | None = None) -> PlainProgress:
    isatty = getattr(stream, "isatty", None)
    if isatty and isatty():
        return RichProgress(stream, total)
    return PlainProgress(stream, total)
