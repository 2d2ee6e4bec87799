from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arame.sdk.resources.base import Manager

# Body fields naming other resources: each an id or a name, resolved to
# the id the API takes.
_REFS = {"network": "network", "key_pair": "key_pair"}
_REF_LISTS = {
    "security_groups": "security_group",
    "key_pairs": "key_pair",
    "volumes": "volume",
}


class InstanceManager(Manager):
    path = "/v1/instances"
    kind, prefix = "instance", "i"

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

        ``fields`` are the optional body fields (network, key_pairs,
        security_groups, volumes, root_gb, user_data, hostname, ...); those
        left as None are not sent. ``image`` and the resources in
        ``fields`` may be given by id or by name.
        """
        body: dict[str, Any] = {
            "name": name,
            "flavor": flavor,
            "image": self._ref("image", image),
        }
        for key, value in fields.items():
            if value is None:
                continue
            if key in _REFS:
                value = self._ref(_REFS[key], value)
            elif key in _REF_LISTS:
                value = self._refs(_REF_LISTS[key], value)
            body[key] = value
        headers = (
            {"Idempotency-Key": idempotency_key} if idempotency_key else None
        )
        return self._session.post(self.path, json=body, headers=headers)

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: status, name (glob), unit, limit, marker."""
        return self._list(all=all, **filters)

    def get(self, instance: str) -> dict[str, Any]:
        """``instance``: an id or a name, here and in every call below."""
        return self._get(self.resolve(instance))

    def delete(self, instance: str) -> dict[str, Any]:
        return self._session.delete(self._item_path(self.resolve(instance)))

    def action(self, instance: str, action: str) -> dict[str, Any]:
        """Run ``start``, ``stop`` or ``reboot``; the answer carries ``task_id``."""
        return self._session.post(
            self._item_path(self.resolve(instance), "actions"),
            json={"action": action},
        )

    def console(self, instance: str) -> dict[str, Any]:
        """The tail of the serial console: ``{"output", "truncated"}``."""
        return self._session.get(
            self._item_path(self.resolve(instance), "console")
        )

    def set_security_groups(
        self, instance: str, groups: Sequence[str]
    ) -> dict[str, Any]:
        """Replace the instance's security groups (ids or names) with
        ``groups``, applied live on its host; the answer carries
        ``task_id``."""
        return self._session.request(
            "PUT",
            self._item_path(self.resolve(instance), "security_groups"),
            json={"security_groups": self._refs("security_group", groups)},
        )

    def metrics(
        self, instance: str, since: str | float | None = None
    ) -> dict[str, Any]:
        """Recent samples: ``{"instance_id", "interval", "samples": [{"at",
        "cpu_percent", "memory_used_mb", "memory_mb", "disk_read_bps",
        "disk_write_bps", "net_rx_bps", "net_tx_bps"}]}``. ``since``: an ISO
        8601 time, or seconds back from now."""
        return self._session.get(
            self._item_path(self.resolve(instance), "metrics"),
            params={"since": since},
        )
