"""Snapshots of volumes, on the volume's storage node."""

from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class SnapshotManager(Manager):
    path = "/v1/snapshots"
    kind, prefix = "snapshot", "snap"

    def create(
        self, name: str, volume: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """A snapshot of ``volume`` (an id or a name); the answer carries
        ``task_id`` to wait on."""
        headers = (
            {"Idempotency-Key": idempotency_key} if idempotency_key else None
        )
        body = {"name": name, "volume_id": self._ref("volume", volume)}
        return self._session.post(self.path, json=body, headers=headers)

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: volume_id, status, name (glob), account_id (admin),
        limit, marker."""
        return self._list(all=all, **filters)

    def get(self, snapshot: str) -> dict[str, Any]:
        """``snapshot``: an id or a name."""
        return self._get(self.resolve(snapshot))

    def delete(self, snapshot: str) -> dict[str, Any]:
        """The answer carries ``task_id``; 409 while volumes made from it
        exist."""
        return self._session.delete(self._item_path(self.resolve(snapshot)))
