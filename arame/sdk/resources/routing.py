"""Routers (tenant networks to an external one, with SNAT) and floating IPs
(an external address forwarded to one instance address, DNAT).

Changes to a router, and a floating IP's (dis)association, are carried out
on a network host by a task: the answer carries ``task_id``, which
``client.tasks.wait(task_id)`` follows as for every other resource.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from arame.sdk.errors import AmbiguousName, NotFound
from arame.sdk.resources.base import Manager


class _Keep:
    """The default of a field a PATCH leaves as it is, where None already
    means something (``external_network=None`` takes the gateway away)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _idempotency(key: str | None) -> dict[str, str] | None:
    # The same key within 24 h creates once (a retried request after a
    # lost answer).
    return {"Idempotency-Key": key} if key else None


class RouterManager(Manager):
    path = "/v1/routers"
    kind, prefix = "router", "rt"

    def create(
        self,
        name: str,
        *,
        external_network: str | None = None,
        networks: Iterable[str] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """A router joining ``networks`` (the account's own) to each other
        and, when given, to ``external_network`` (SNAT on the router's
        external address); each an id or a name. The answer carries
        ``task_id``."""
        body: dict[str, Any] = {"name": name}
        if external_network is not None:
            body["external_network"] = self._ref("network", external_network)
        if networks is not None:
            body["networks"] = self._refs("network", networks)
        return self._session.post(
            self.path, json=body, headers=_idempotency(idempotency_key)
        )

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: name (glob), limit, marker."""
        return self._list(all=all, **filters)

    def get(self, router: str) -> dict[str, Any]:
        """``router``: an id or a name, here and in every call below."""
        return self._get(self.resolve(router))

    def update(
        self,
        router: str,
        *,
        name: str | None = None,
        external_network: str | None = KEEP,
        networks: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """Rename it, change its gateway (``external_network=None`` removes
        it) or replace its networks with ``networks`` (the whole new list);
        what is not given stays. The answer carries ``task_id``."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if external_network is not KEEP:
            body["external_network"] = self._ref("network", external_network)
        if networks is not None:
            body["networks"] = self._refs("network", networks)
        return self._session.patch(
            self._item_path(self.resolve(router)), json=body
        )

    def delete(self, router: str) -> dict[str, Any]:
        """The answer carries ``task_id``; 409 while floating IPs are
        associated through it."""
        return self._session.delete(self._item_path(self.resolve(router)))

    # -- one change at a time --------------------------------------------
    # The API takes the full list of networks; these read it and send it
    # back changed (two routers' edits at once: the last one wins).
    def add_network(self, router: str, network: str) -> dict[str, Any]:
        current = self.get(router)
        wanted = self._ref("network", network)
        ids = [n["id"] for n in current.get("networks") or ()]
        if wanted not in ids:
            ids.append(str(wanted))
        return self.update(current["id"], networks=ids)

    def remove_network(self, router: str, network: str) -> dict[str, Any]:
        current = self.get(router)
        ids = [n["id"] for n in current.get("networks") or ()]
        unwanted = self._attached(ids, network)
        if unwanted not in ids:
            raise NotFound(
                f"network {network!r} is not attached to router "
                f"{current['name']!r}"
            )
        return self.update(
            current["id"], networks=[i for i in ids if i != unwanted]
        )

    def set_gateway(self, router: str, network: str) -> dict[str, Any]:
        return self.update(router, external_network=network)

    def unset_gateway(self, router: str) -> dict[str, Any]:
        return self.update(router, external_network=None)

    def _attached(self, ids: Sequence[str], network: str) -> str | None:
        # An attached network named by its id needs no look-up, and one
        # since deleted or renamed can still be taken off by id.
        if network in ids:
            return network
        return self._ref("network", network)


class FloatingIPManager(Manager):
    path = "/v1/floating_ips"
    kind, prefix = "floating IP", "fip"

    def allocate(
        self,
        network: str,
        address: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """An address of external ``network``'s pool (id or name), this one
        when given; counts against the ``floating_ips`` quota. A record
        only: no task."""
        body: dict[str, Any] = {"network": self._ref("network", network)}
        if address is not None:
            body["address"] = address
        return self._session.post(
            self.path, json=body, headers=_idempotency(idempotency_key)
        )

    def list(
        self,
        *,
        instance: str | None = None,
        network: str | None = None,
        all: bool = False,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """Filters: instance and network (ids or names), limit, marker."""
        return self._list(
            all=all,
            instance=self._ref("instance", instance),
            network=self._ref("network", network),
            **filters,
        )

    def find(self, fip: str) -> dict[str, Any]:
        """A floating IP has no name: an id, or its address."""
        if not _is_address(fip):
            return self._get(fip)
        found = [f for f in self._list(all=True) if f.get("address") == fip]
        if not found:
            raise NotFound(f"no floating IP {fip}")
        if len(found) > 1:
            # Two external networks with overlapping pools.
            raise AmbiguousName(self.kind, fip, [f["id"] for f in found])
        return found[0]

    def resolve(self, fip: str) -> str:
        if not _is_address(fip):
            return fip
        return str(self.find(fip)["id"])

    def get(self, fip: str) -> dict[str, Any]:
        """``fip``: an id or the address itself, here and below."""
        if _is_address(fip):
            return self.find(fip)
        return self._get(fip)

    def release(self, fip: str) -> dict[str, Any]:
        """Give the address back to the pool. Associated: it is
        disassociated first and the answer carries ``task_id``; otherwise
        the answer is empty."""
        return self._session.delete(self._item_path(self.resolve(fip)))

    def associate(
        self, fip: str, instance: str, ip_address: str | None = None
    ) -> dict[str, Any]:
        """Forward it to ``instance`` (id or name), to its address
        ``ip_address`` when it has several (default: its first); the
        answer is the floating IP with ``task_id``."""
        what: dict[str, Any] = {"instance": self._ref("instance", instance)}
        if ip_address is not None:
            what["ip_address"] = ip_address
        return self._action(fip, {"associate": what})

    def disassociate(self, fip: str) -> dict[str, Any]:
        """The answer carries ``task_id``; the address stays allocated."""
        return self._action(fip, {"disassociate": {}})

    def _action(self, fip: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._session.post(
            self._item_path(self.resolve(fip), "actions"), json=body
        )
