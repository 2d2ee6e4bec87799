from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class InstanceManager(Manager):
    path = "/v1/instances"

    def create(
        self,
        name: str,
        flavor: str,
        image: str,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Ask for a new instance; the answer carries ``task_id`` to wait on.

        ``fields`` are the optional body fields (network, key_pair, user_data,
        hostname, ...); those left as None are not sent.
        """
        body = {"name": name, "flavor": flavor, "image": image}
        body.update({k: v for k, v in fields.items() if v is not None})
        headers = (
            {"Idempotency-Key": idempotency_key} if idempotency_key else None
        )
        return self._session.post(self.path, json=body, headers=headers)

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: status, name (glob), limit, marker."""
        return self._list(all=all, **filters)

    def get(self, instance_id: str) -> dict[str, Any]:
        return self._get(instance_id)

    def delete(self, instance_id: str) -> dict[str, Any]:
        return self._session.delete(self._item_path(instance_id))

    def action(self, instance_id: str, action: str) -> dict[str, Any]:
        """Run ``start``, ``stop`` or ``reboot``; the answer carries ``task_id``."""
        return self._session.post(
            self._item_path(instance_id, "actions"), json={"action": action}
        )

    def console(self, instance_id: str) -> dict[str, Any]:
        """The tail of the serial console: ``{"output", "truncated"}``."""
        return self._session.get(self._item_path(instance_id, "console"))
