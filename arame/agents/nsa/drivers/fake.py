"""Naming in memory: for unit tests, the all-in-one and scale benchmarks.

It keeps the real driver's contract (idempotent operations, renames
replacing, stale entries dropped) through the same ReservationTable, and
counts what the real one would do to dnsmasq: reloads (one per change that
drops an entry) and released leases.
"""

import threading

from arame.agents.nsa.drivers.base import NamingDriver, NetworkNotFound
from arame.agents.nsa.records import Network, Reservation
from arame.agents.nsa.table import Change, ReservationTable


class FakeDriver(NamingDriver):
    def __init__(self):
        self._lock = threading.Lock()
        self._networks: dict[str, Network] = {}
        self._tables: dict[str, ReservationTable] = {}
        self.reloads: dict[str, int] = {}
        self.released: list[tuple[str, str, str]] = []  # (network, mac, ip)

    def networks(self) -> dict[str, Network]:
        with self._lock:
            return dict(self._networks)

    def _table(self, network_id: str) -> ReservationTable:
        try:
            return self._tables[network_id]
        except KeyError:
            raise NetworkNotFound(network_id) from None

    def _account(self, network_id: str, change: Change) -> None:
        if change.dropped:
            self.reloads[network_id] = self.reloads.get(network_id, 0) + 1
            self.released.extend(
                (network_id, r.mac, str(r.ip)) for r in change.dropped
            )

    def ensure_network(self, network: Network) -> None:
        with self._lock:
            self._networks[network.id] = network
            self._tables.setdefault(network.id, ReservationTable())
            self.reloads.setdefault(network.id, 0)

    def remove_network(self, network_id: str) -> None:
        with self._lock:
            self._networks.pop(network_id, None)
            self._tables.pop(network_id, None)
            self.reloads.pop(network_id, None)

    def reservations(self, network_id: str) -> list[Reservation]:
        with self._lock:
            return self._table(network_id).all()

    def add_reservation(self, network_id: str, res: Reservation) -> None:
        with self._lock:
            self._account(network_id, self._table(network_id).add(res))

    def remove_reservation(self, network_id: str, mac: str) -> None:
        with self._lock:
            self._account(network_id, self._table(network_id).remove(mac))

    def sync(self, network: Network, reservations: list[Reservation]) -> dict:
        self.ensure_network(network)
        with self._lock:
            change = self._table(network.id).replace_all(reservations)
            self._account(network.id, change)
        return {"written": len(change.written), "dropped": len(change.dropped)}

    def network_status(self, network_id: str) -> dict:
        with self._lock:
            return {
                "reservations": len(self._table(network_id)),
                "running": True,
                "reloads": self.reloads[network_id],
            }
