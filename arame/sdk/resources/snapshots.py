"""Snapshots of volumes, on the volume's storage node."""

from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class SnapshotManager(Manager):
    path = "/v1/snapshots"

    def create(
        self, name: str, volume_id: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """The answer carries ``task_id`` to wait on."""
        headers = (
            {"Idempotency-Key": idempotency_key} if idempotency_key else None
        )
        body = {"name": name, "volume_id": volume_id}
        return self._session.post(self.path, json=body, headers=headers)

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: volume_id, status, name (glob), account_id (admin),
        limit, marker."""
        return self._list(all=all, **filters)

    def get(self, snapshot_id: str) -> dict[str, Any]:
        return self._get(snapshot_id)

    def delete(self, snapshot_id: str) -> dict[str, Any]:
        """The answer carries ``task_id``; 409 while volumes made from it
        exist."""
        return self._session.delete(self._item_path(snapshot_id))
