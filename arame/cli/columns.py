"""Nested API fields shown readably in tables yet unchanged with ``-f json``."""

from __future__ import annotations

from typing import Any

from cliff.columns import FormattableColumn

from arame.cli.progress import format_event


class AddressesColumn(FormattableColumn[list]):
    def human_readable(self) -> str:
        return ", ".join(a.get("ip_address", "?") for a in self._value or [])


class EventsColumn(FormattableColumn[list]):
    def human_readable(self) -> str:
        return "\n".join(format_event(e) for e in self._value or [])


class ServicesColumn(FormattableColumn[list]):
    def human_readable(self) -> str:
        return ", ".join(f"{s.get('binary')} {s.get('state')}" for s in self._value or [])


class TaskErrorColumn(FormattableColumn[Any]):
    def human_readable(self) -> str:
        if not self._value:
            return ""
        return f"{self._value.get('step')}: {self._value.get('message')}"
