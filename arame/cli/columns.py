"""Nested API fields shown readably in tables yet unchanged with ``-f json``."""

from __future__ import annotations

from typing import Any

from cliff.columns import FormattableColumn

from arame.cli.progress import format_event


class AddressesColumn(FormattableColumn[list]):
    """`10.0.0.5`, or `10.0.0.5 (floating 203.0.113.20)` where the outside
    reaches it."""

    def human_readable(self) -> str:
        return ", ".join(
            a.get("ip_address", "?")
            + (
                f" (floating {a['floating_ip']})"
                if a.get("floating_ip")
                else ""
            )
            for a in self._value or []
        )


class EventsColumn(FormattableColumn[list]):
    def human_readable(self) -> str:
        return "\n".join(format_event(e) for e in self._value or [])


class ServicesColumn(FormattableColumn[list]):
    def human_readable(self) -> str:
        return ", ".join(
            f"{s.get('binary')} {s.get('state')}" for s in self._value or []
        )


class TaskErrorColumn(FormattableColumn[Any]):
    def human_readable(self) -> str:
        if not self._value:
            return ""
        return f"{self._value.get('step')}: {self._value.get('message')}"


class ListColumn(FormattableColumn[list]):
    def human_readable(self) -> str:
        return ", ".join(str(v) for v in self._value or [])


class RangesColumn(FormattableColumn[list]):
    def human_readable(self) -> str:
        return ", ".join(f"{r[0]}-{r[1]}" for r in self._value or [])


class RulesColumn(FormattableColumn[list]):
    """Security group rules in their Wakame text form, one per line."""

    def human_readable(self) -> str:
        lines = []
        for r in self._value or []:
            source = f"ip4:{r['cidr']}" if r.get("cidr") else r.get("group_id")
            lines.append(
                f"{r.get('protocol')}:{r.get('from_port')},"
                f"{r.get('to_port')},{source}"
            )
        return "\n".join(lines)
