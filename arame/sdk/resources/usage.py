"""The usage ledger: open/close records per resource lifetime."""

from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class UsageManager(Manager):
    path = "/v1/usage"

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: account_id, start, end (ISO 8601), limit, marker (the
        id of the last record already read)."""
        return self._list(all=all, **filters)
