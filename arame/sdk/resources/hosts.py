"""Hosts (admin only): hypervisors and agents with their heartbeats; a
hypervisor taken out of service (disabled, or in maintenance) gets no new
instances and keeps its guests."""

from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class HostManager(Manager):
    """Hypervisors and agents with their heartbeats (admin only)."""

    path = "/v1/hosts"
    kind = "host"

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        return self._list(all=all, **filters)

    def get(self, host: str) -> dict[str, Any]:
        """``host``: an id or a name, here and in every call below."""
        return self._get(host)

    def update(
        self,
        host: str,
        *,
        enabled: bool | None = None,
        maintenance: bool | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Change what is given; ``reason`` goes with enabled=False or
        maintenance=True. The same values again change nothing."""
        body: dict[str, Any] = {}
        if enabled is not None:
            body["enabled"] = enabled
        if maintenance is not None:
            body["maintenance"] = maintenance
        if reason is not None:
            body["reason"] = reason
        return self._session.patch(self._item_path(host), json=body)

    def disable(self, host: str, reason: str | None = None) -> dict[str, Any]:
        return self.update(host, enabled=False, reason=reason)

    def enable(self, host: str) -> dict[str, Any]:
        return self.update(host, enabled=True)

    def maintenance(
        self, host: str, on: bool = True, reason: str | None = None
    ) -> dict[str, Any]:
        """Put the host in maintenance (``on``) or take it out."""
        return self.update(host, maintenance=on, reason=reason)

    def evacuate(self, host: str) -> dict[str, Any]:
        """Rebuild a down host's ``ha_enabled`` instances on other hosts
        after fencing it: {"host", "state", "fenced_at", "tasks":
        [{"instance_id", "task_id", "new"}], "not_evacuated":
        [{"instance_id", "reason"}]}. Asking again adds no task."""
        return self._session.post(self._item_path(host, "evacuate"))
