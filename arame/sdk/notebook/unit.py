"""A unit (identical nodes from one spec) and its nodes, as handles that
call the API; each keeps the last answer it had in ``data``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from arame.sdk.notebook import frames, waits
from arame.sdk.notebook.errors import NodeFailure, UnitError

if TYPE_CHECKING:
    from arame.sdk.notebook.sdk import ArameSDK


def as_list(value: str | Sequence[str] | None) -> list[str] | None:
    """VCP takes one address or several: a string is a list of one."""
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def matches(state: str | None, wanted: str | None) -> bool:
    return wanted is None or (state or "").upper() == wanted.upper()


class Node:
    """One VM or server of a unit (an Arame instance)."""

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
        return frames.vcp_state(self.data.get("status"))

    @property
    def ip_address(self) -> str | None:
        return self.data.get("ip_address")

    @property
    def host(self) -> str | None:
        return self.data.get("host")

    def metrics(self, since: str | int | None = None) -> Any:
        """CPU, memory, disk and network of this node over time (a
        DataFrame; ``since``: ISO time or seconds back)."""
        body = self._sdk.client.instances.metrics(self.id, since=since)
        return frames.frame(body.get("samples") or (), frames.METRIC_COLUMNS)

    def __repr__(self) -> str:
        return (
            f"Node(name={self.name!r}, state={self.state!r}, "
            f"ip_address={self.ip_address!r})"
        )


class Unit:
    def __init__(self, sdk: ArameSDK, data: dict[str, Any]) -> None:
        self._sdk = sdk
        self.data = data

    # -- what it is ----------------------------------------------------------
    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def ugroup_name(self) -> str | None:
        return self.data.get("unit_group_name")

    @property
    def state(self) -> str | None:
        return frames.vcp_state(self.data.get("state"))

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.data.get("spec") or {})

    @property
    def nodes(self) -> list[Node]:
        return [Node(self._sdk, n) for n in self.data.get("nodes") or ()]

    def refresh(self) -> Unit:
        self.data = self._sdk.client.units.get(self.id)
        return self

    def __repr__(self) -> str:
        return (
            f"Unit(name={self.name!r}, ugroup={self.ugroup_name!r}, "
            f"state={self.state!r}, nodes={len(self.data.get('nodes') or ())})"
        )

    __str__ = __repr__

    # -- its nodes -----------------------------------------------------------
    def df_nodes(self) -> Any:
        return frames.frame(frames.node_rows(self.data), frames.NODE_COLUMNS)

    def find_nodes(self, node_state: str | None = None) -> list[Node]:
        """Nodes, those in ``node_state`` (``'RUNNING'``...) when given."""
        return [n for n in self.nodes if matches(n.state, node_state)]

    def find_ip_addresses(
        self, node_state: str | None = None, floating: bool = False
    ) -> list[str]:
        """The nodes' addresses, those of nodes in ``node_state`` when
        given; with ``floating``, a node's floating IP in place of its own
        address where it has one (the address to reach it from outside)."""
        return node_addresses(self._sdk, self.find_nodes(node_state), floating)

    # -- changes -------------------------------------------------------------
    def add_nodes(
        self,
        num_add_nodes: int = 1,
        ip_address: str | Sequence[str] | None = None,
        wait_for: bool = True,
        timeout: float | None = None,
    ) -> list[Node]:
        """Nodes like the unit's others: ``num_add_nodes`` of them, or one
        per address in ``ip_address``. Returns the new nodes."""
        ips = as_list(ip_address)
        answer = self._sdk.client.units.add_nodes(
            self.id, count=None if ips else num_add_nodes, ip_addresses=ips
        )
        self._follow(answer, "add_nodes", wait_for, timeout)
        added = set(answer.get("node_ids") or ())
        return [n for n in self.nodes if n.id in added]

    def delete_nodes(
        self,
        ip_address: str | Sequence[str] | None = None,
        node_id: str | Sequence[str] | None = None,
        num_delete_nodes: int = 1,
        wait_for: bool = True,
        timeout: float | None = None,
    ) -> list[str]:
        """Delete the nodes with these addresses, or these ids; with
        neither, ``num_delete_nodes`` the server picks (failed ones first,
        then the newest). Returns the deleted nodes' ids."""
        ips, ids = as_list(ip_address), as_list(node_id)
        answer = self._sdk.client.units.delete_nodes(
            self.id,
            ip_addresses=ips,
            node_ids=ids,
            count=None if ips or ids else num_delete_nodes,
        )
        self._follow(answer, "delete_nodes", wait_for, timeout)
        return list(answer.get("node_ids") or ())

    def power_on(
        self,
        node_id: str | Sequence[str] | None = None,
        wait_for: bool = True,
        timeout: float | None = None,
    ) -> Unit:
        """Start every stopped node (or those in ``node_id``)."""
        answer = self._sdk.client.units.power_on(
            self.id, node_ids=as_list(node_id)
        )
        self._follow(answer, "power_on", wait_for, timeout)
        return self

    def power_off(
        self,
        node_id: str | Sequence[str] | None = None,
        wait_for: bool = True,
        timeout: float | None = None,
    ) -> Unit:
        answer = self._sdk.client.units.power_off(
            self.id, node_ids=as_list(node_id)
        )
        self._follow(answer, "power_off", wait_for, timeout)
        return self

    def delete(
        self, wait_for: bool = True, timeout: float | None = None
    ) -> None:
        """Delete the unit and its nodes."""
        answer = self._sdk.client.units.delete(self.id)
        self._follow(answer, "delete", wait_for, timeout, gone=True)

    def wait(self, timeout: float | None = None) -> Unit:
        """Until no node is on its way (RUNNING, POWER_OFF or ERROR).

        UnitError when the unit is in ERROR; WaitTimeout (the work goes on)
        after ``timeout`` seconds.
        """

        def poll() -> tuple[bool, int, int, str | None, None]:
            self.refresh()
            return (*waits.unit_progress(self.data), None)

        total = len(self.data.get("nodes") or ())
        self._sdk.poller.run(self._what("wait"), total, poll, timeout)
        if self.data["state"] == "error":
            raise UnitError(
                self._what("wait"), self._failures(), unit=self
            ) from None
        return self

    # -- following the work --------------------------------------------------
    def _what(self, action: str) -> str:
        return f"unit {self.name!r} ({action})"

    def _follow(
        self,
        answer: dict[str, Any],
        action: str,
        wait_for: bool,
        timeout: float | None,
        gone: bool = False,
    ) -> None:
        if not wait_for:
            if not gone:
                self.refresh()
            return
        total = len(answer.get("node_ids") or ()) or len(
            self.data.get("nodes") or ()
        )
        task = follow_task(
            self._sdk, answer["task_id"], self._what(action), total, timeout
        )
        if not gone:
            self.refresh()
        if task["status"] == "failed":
            raise UnitError(
                self._what(action),
                self._failures(waits.task_failures(task), gone),
                unit=None if gone else self,
                message=(task.get("error") or {}).get("message"),
            )

    def _failures(
        self, known: list[NodeFailure] | None = None, gone: bool = False
    ) -> list[NodeFailure]:
        if gone:
            return known or []
        failures = waits.unit_failures(self.data, known or [])
        ids = {n["name"]: n["id"] for n in self.data.get("nodes") or ()}
        return [
            f if f.step else self._with_step(f, ids.get(f.node))
            for f in failures
        ]

    def _with_step(self, f: NodeFailure, node_id: str | None) -> NodeFailure:
        """Where a node failed, from its own last task (the unit only
        keeps the reason)."""
        if node_id is None:
            return f
        history = self._sdk.client.tasks.list(node_id, limit=1)
        error = (history[0].get("error") or {}) if history else {}
        if not error.get("step"):
            return f
        return NodeFailure(
            f.node, error["step"], error.get("message") or f.reason, f.host
        )


def node_addresses(
    sdk: ArameSDK, nodes: Sequence[Node], floating: bool = False
) -> list[str]:
    """Each node's address; with ``floating``, its floating IP where it
    has one: the one forwarded to that address, else one forwarded to
    another of its addresses (reachable all the same)."""
    forwarded: dict[str, dict[str | None, str]] = {}
    if floating and nodes:
        # One listing for every node: the account's floating IPs.
        for fip in sdk.client.floating_ips.list(all=True):
            if fip.get("instance_id"):
                forwarded.setdefault(fip["instance_id"], {})[
                    fip.get("fixed_address")
                ] = fip["address"]
    addresses = []
    for n in nodes:
        address = n.ip_address
        if floating:
            mine = forwarded.get(n.id, {})
            address = mine.get(address) or next(iter(mine.values()), address)
        if address is not None:
            addresses.append(address)
    return addresses


def follow_task(
    sdk: ArameSDK,
    task_id: str,
    what: str,
    total: int,
    timeout: float | None,
) -> dict[str, Any]:
    """A parent task, polled until it ends; the last answer."""

    def poll() -> tuple[bool, int, int, str | None, dict[str, Any]]:
        task = sdk.client.tasks.get(task_id)
        return (*waits.task_progress(task, total), task)

    return sdk.poller.run(what, total, poll, timeout)
