from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class ImageManager(Manager):
    path = "/v1/images"

    def list(self, *, all: bool = False, **filters: Any) -> list[dict[str, Any]]:
        return self._list(all=all, **filters)

    def get(self, image_id: str) -> dict[str, Any]:
        return self._get(image_id)
