"""Bare-metal nodes (admin): enroll servers with their BMC, check the BMC
(``manage``), offer them to the scheduler (``provide``). The BMC password
is sent, never returned."""

from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class BaremetalNodeManager(Manager):
    path = "/v1/baremetal/nodes"

    def create(
        self,
        name: str,
        *,
        bmc_address: str,
        bmc_username: str,
        bmc_password: str,
        macs: list[str],
        cpus: int,
        memory_mb: int,
        disk_gb: int,
        bmc_port: int = 623,
        **optional: Any,
    ) -> dict[str, Any]:
        """Enroll a node (``enroll``); optional: bmc_interface,
        resource_class, bma_host."""
        body = {
            "name": name,
            "bmc_address": bmc_address,
            "bmc_port": bmc_port,
            "bmc_username": bmc_username,
            "bmc_password": bmc_password,
            "macs": list(macs),
            "cpus": cpus,
            "memory_mb": memory_mb,
            "disk_gb": disk_gb,
            **{k: v for k, v in optional.items() if v is not None},
        }
        return self._session.post(self.path, json=body)

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: status (a provision state), name (glob), maintenance."""
        return self._list(all=all, **filters)

    def get(self, node_id: str) -> dict[str, Any]:
        return self._get(node_id)

    def update(self, node_id: str, **fields: Any) -> dict[str, Any]:
        """Not while it holds an instance (409)."""
        return self._session.patch(self._item_path(node_id), json=fields)

    def delete(self, node_id: str) -> None:
        self._session.delete(self._item_path(node_id))

    def _action(self, node_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._session.post(
            self._item_path(node_id, "actions"), json=body
        )

    def manage(self, node_id: str) -> dict[str, Any]:
        """Check the BMC; the answer carries ``task_id``."""
        return self._action(node_id, {"action": "manage"})

    def provide(self, node_id: str) -> dict[str, Any]:
        """Power off and offer to the scheduler; carries ``task_id``."""
        return self._action(node_id, {"action": "provide"})

    def maintenance(
        self, node_id: str, on: bool, reason: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"action": "maintenance", "on": on}
        if reason is not None:
            body["reason"] = reason
        return self._action(node_id, body)
