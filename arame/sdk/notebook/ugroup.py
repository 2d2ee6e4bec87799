"""A unit group: the units of one experiment, cleaned up as a whole."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arame.sdk.notebook import frames, waits
from arame.sdk.notebook.errors import UnitError
from arame.sdk.notebook.spec import Spec
from arame.sdk.notebook.unit import (
    Node,
    Unit,
    follow_task,
    matches,
    node_addresses,
)

if TYPE_CHECKING:
    from arame.sdk.notebook.sdk import ArameSDK


class UnitGroup:
    def __init__(self, sdk: ArameSDK, data: dict[str, Any]) -> None:
        self._sdk = sdk
        self.data = data

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def state(self) -> str | None:
        return frames.vcp_state(self.data.get("state"))

    def refresh(self) -> UnitGroup:
        self.data = self._sdk.client.unit_groups.get(self.id)
        return self

    def __repr__(self) -> str:
        return (
            f"UnitGroup(name={self.name!r}, state={self.state!r}, "
            f"units={len(self.data.get('units') or ())}, "
            f"nodes={self.data.get('node_count', 0)})"
        )

    __str__ = __repr__

    # -- units -------------------------------------------------------------
    def create_unit(
        self,
        name: str,
        spec: Spec,
        num_nodes: int = 1,
        wait_for: bool = True,
        timeout: float | None = None,
    ) -> Unit:
        """A unit of ``num_nodes`` nodes made from ``spec`` (one per
        address when ``spec.ip_addresses`` is set).

        With ``wait_for`` it returns when every node runs, showing their
        progress; UnitError names the nodes that failed, and WaitTimeout
        leaves the unit building (``wait_unit_applied(name)`` waits again).
        """
        spec.check_ready()
        ips = spec.ip_addresses
        if ips and num_nodes not in (1, len(ips)):
            raise ValueError(
                f"num_nodes={num_nodes} but spec.ip_addresses has "
                f"{len(ips)} addresses: one node is made per address"
            )
        answer = self._sdk.client.units.create(
            self.id,
            name,
            spec.to_api(),
            count=None if ips else num_nodes,
            ip_addresses=ips,
        )
        unit = Unit(self._sdk, answer)
        if wait_for:
            unit._follow(answer, "create", True, timeout)
        self.refresh()
        return unit

    def wait_unit_applied(
        self, unit_name: str, timeout: float | None = None
    ) -> Unit:
        """Wait, by name, until the unit's nodes are no longer on their way
        (RUNNING, POWER_OFF; UnitError for ERROR). Works from any ArameSDK:
        a wait that timed out or was interrupted resumes here."""
        return self.get_unit(unit_name).wait(timeout)

    def get_unit(self, unit_name: str) -> Unit:
        return Unit(
            self._sdk,
            self._sdk.client.units.get(unit_name, unit_group=self.id),
        )

    def find_units(self) -> list[Unit]:
        return [Unit(self._sdk, u) for u in self._units()]

    def delete_unit(
        self,
        unit_name: str,
        wait_for: bool = True,
        timeout: float | None = None,
    ) -> None:
        self.get_unit(unit_name).delete(wait_for, timeout)

    def _units(self) -> list[dict[str, Any]]:
        return self._sdk.client.units.list(self.id, all=True)

    # -- frames and look-ups -----------------------------------------------
    def df_units(self) -> Any:
        return frames.frame(
            [frames.unit_row(u) for u in self._units()], frames.UNIT_COLUMNS
        )

    def df_nodes(self) -> Any:
        rows = [r for u in self._units() for r in frames.node_rows(u)]
        return frames.frame(rows, frames.NODE_COLUMNS)

    def find_nodes(self, node_state: str | None = None) -> list[Node]:
        return [
            Node(self._sdk, n)
            for u in self._units()
            for n in u.get("nodes") or ()
            if matches(frames.vcp_state(n.get("status")), node_state)
        ]

    def find_ip_addresses(
        self, node_state: str | None = None, floating: bool = False
    ) -> list[str]:
        """The nodes' addresses across the group's units, those of nodes in
        ``node_state`` (``'RUNNING'``...) when given. With ``floating``, a
        node's floating IP in place of its own address where it has one:
        what to SSH to from outside the cloud."""
        return node_addresses(self._sdk, self.find_nodes(node_state), floating)

    # -- the end -----------------------------------------------------------
    def cleanup(
        self, wait_for: bool = True, timeout: float | None = None
    ) -> None:
        """Delete every node, every unit, then the group (one server-side
        task that goes on if this wait is interrupted). The name is free
        again afterwards."""
        # The node count now, not at the last refresh: the bar's total.
        self.refresh()
        answer = self._sdk.client.unit_groups.delete(self.id)
        if not wait_for:
            return
        what = f"cleanup of unit group {self.name!r}"
        task = follow_task(
            self._sdk,
            answer["task_id"],
            what,
            int(self.data.get("node_count") or 0),
            timeout,
        )
        if task["status"] == "failed":
            raise UnitError(
                what,
                waits.task_failures(task),
                message=(task.get("error") or {}).get("message"),
            )
