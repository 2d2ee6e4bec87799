from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class FlavorManager(Manager):
    path = "/v1/flavors"

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        return self._list(all=all, **filters)
