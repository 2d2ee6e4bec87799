from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class HostManager(Manager):
    """Hypervisors and agents with their heartbeats (admin only)."""

    path = "/v1/hosts"

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        return self._list(all=all, **filters)
