"""Unit groups and units: sets of identical nodes made from one spec.

Every call that takes an id also takes a name (the API resolves it), so a
caller that lost an id can always come back by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arame.sdk.resources.base import Manager


def _present(**fields: Any) -> dict[str, Any]:
    # Fields left as None are not sent: the server's defaults apply. A
    # tuple of addresses goes out as a JSON list all the same.
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in fields.items()
        if v is not None
    }


class UnitGroupManager(Manager):
    path = "/v1/unit_groups"

    def create(self, name: str) -> dict[str, Any]:
        return self._session.post(self.path, json={"name": name})

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: name, limit, marker."""
        return self._list(all=all, **filters)

    def get(self, group: str) -> dict[str, Any]:
        """``group`` is an id (``ug-...``) or a name."""
        return self._get(group)

    def delete(self, group: str) -> dict[str, Any]:
        """Delete the group with every unit and node in it (one task): the
        answer carries ``task_id``."""
        return self._session.delete(self._item_path(group))


class UnitManager(Manager):
    path = "/v1/units"

    def create(
        self,
        unit_group: str,
        name: str,
        spec: dict[str, Any],
        count: int | None = None,
        ip_addresses: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Ask for a unit of ``count`` nodes (or one per address); the answer
        carries ``task_id``."""
        body = {"unit_group": unit_group, "name": name, "spec": spec}
        body.update(_present(count=count, ip_addresses=ip_addresses))
        return self._session.post(self.path, json=body)

    def list(
        self,
        unit_group: str | None = None,
        *,
        all: bool = False,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        return self._list(all=all, unit_group=unit_group, **filters)

    def get(self, unit: str, unit_group: str | None = None) -> dict[str, Any]:
        """``unit`` is an id, or a name (within ``unit_group`` when given,
        else unique across the caller's groups)."""
        return self._session.get(
            self._item_path(unit), params={"unit_group": unit_group}
        )

    def patch(self, unit: str, **fields: Any) -> dict[str, Any]:
        """Change ``name``."""
        return self._session.patch(
            self._item_path(unit), json=_present(**fields)
        )

    def delete(self, unit: str) -> dict[str, Any]:
        return self._session.delete(self._item_path(unit))

    def _action(self, unit: str, action: str, **fields: Any) -> dict[str, Any]:
        return self._session.post(
            self._item_path(unit, "actions"),
            json={"action": action, **_present(**fields)},
        )

    def add_nodes(
        self,
        unit: str,
        count: int | None = None,
        ip_addresses: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Nodes like the unit's others: ``count`` of them, or one per
        address. The answer carries ``task_id`` and ``node_ids``."""
        return self._action(
            unit, "add_nodes", count=count, ip_addresses=ip_addresses
        )

    def delete_nodes(
        self,
        unit: str,
        ip_addresses: Sequence[str] | None = None,
        node_ids: Sequence[str] | None = None,
        count: int | None = None,
    ) -> dict[str, Any]:
        """Those nodes, or ``count`` the server picks (failed ones first,
        then the newest)."""
        return self._action(
            unit,
            "delete_nodes",
            ip_addresses=ip_addresses,
            node_ids=node_ids,
            count=count,
        )

    def power_on(
        self, unit: str, node_ids: Sequence[str] | None = None
    ) -> dict[str, Any]:
        return self._action(unit, "power_on", node_ids=node_ids)

    def power_off(
        self, unit: str, node_ids: Sequence[str] | None = None
    ) -> dict[str, Any]:
        return self._action(unit, "power_off", node_ids=node_ids)
