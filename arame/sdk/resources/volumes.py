"""Volumes: block devices on storage nodes (root volumes of instances are
listed too, read-only)."""

from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class VolumeManager(Manager):
    path = "/v1/volumes"
    kind, prefix = "volume", "vol"

    def create(
        self,
        name: str,
        size_gb: int | None = None,
        *,
        image: str | None = None,
        snapshot: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """An empty volume, or a copy of a raw ``image`` or a clone of a
        ``snapshot`` (``size_gb`` then defaults to theirs), each an id or a
        name; the answer carries ``task_id`` to wait on."""
        body: dict[str, Any] = {"name": name}
        for key, value in (
            ("size_gb", size_gb),
            ("image", self._ref("image", image)),
            ("snapshot", self._ref("snapshot", snapshot)),
        ):
            if value is not None:
                body[key] = value
        headers = (
            {"Idempotency-Key": idempotency_key} if idempotency_key else None
        )
        return self._session.post(self.path, json=body, headers=headers)

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: status (``deleted`` to see deleted ones), name (glob),
        account_id (admin), limit, marker."""
        return self._list(all=all, **filters)

    def get(self, volume: str) -> dict[str, Any]:
        """``volume``: an id or a name, here and below."""
        return self._get(self.resolve(volume))

    def delete(self, volume: str) -> dict[str, Any]:
        """The answer carries ``task_id``; 409 while it is attached, is an
        instance's root volume or has snapshots."""
        return self._session.delete(self._item_path(self.resolve(volume)))

    def attach(self, volume: str, instance: str) -> dict[str, Any]:
        """Hot-plug an ``available`` volume into a running or stopped
        instance of the same account; the answer carries ``task_id``, and
        once it is done the volume shows ``instance_id`` and ``device``."""
        return self._session.post(
            self._item_path(self.resolve(volume), "actions"),
            json={
                "action": "attach",
                "instance_id": self._ref("instance", instance),
            },
        )

    def detach(self, volume: str) -> dict[str, Any]:
        """Unplug an attached data volume; it becomes ``available`` again."""
        return self._session.post(
            self._item_path(self.resolve(volume), "actions"),
            json={"action": "detach"},
        )
