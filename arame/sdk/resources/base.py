"""What every resource manager shares: a collection path, get and paged list."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from arame.sdk.session import Session


class Manager:
    #: Collection path, e.g. ``/v1/instances``.
    path: str

    def __init__(self, session: Session) -> None:
        self._session = session

    def _item_path(self, resource_id: str, *suffix: str) -> str:
        # Quoting keeps an ID like "../hosts" from walking to another route.
        return "/".join([self.path, quote(resource_id, safe=""), *suffix])

    def _get(self, resource_id: str) -> dict[str, Any]:
        return self._session.get(self._item_path(resource_id))

    def _list(
        self,
        *,
        all: bool = False,
        limit: int | None = None,
        marker: str | None = None,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """One page of the collection, or every page when ``all`` is true."""
        items: list[dict[str, Any]] = []
        while True:
            page = self._session.get(
                self.path, params={"limit": limit, "marker": marker, **filters}
            )
            items.extend(page.get("items", []))
            marker = page.get("next_marker")
            if not all or not marker:
                return items
