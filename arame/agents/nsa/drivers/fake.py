"""Naming in memory: for unit tests, the all-in-one and scale benchmarks.

It keeps the real driver's contract (idempotent operations, renames
replacing, stale entries dropped) through the same ReservationTable, and
counts what the real one would do to dnsmasq: reloads (one per change that
drops an entry) and released leases. With `[fake_nsa] state_file` the
networks and reservations outlive the agent, as the real driver's state
directory does: loaded at start, saved after every change
(arame/agents/statefile.py).
"""

import threading

from arame.agents import statefile
from arame.agents.nsa import records
from arame.agents.nsa.drivers.base import NamingDriver, NetworkNotFound
from arame.agents.nsa.records import Network, Reservation
from arame.agents.nsa.table import Change, ReservationTable
from arame.common.conf import CONF


class FakeDriver(NamingDriver):
    def __init__(self, state_file: str | None = None):
        self._lock = threading.Lock()
        self._networks: dict[str, Network] = {}
        self._tables: dict[str, ReservationTable] = {}
        self.reloads: dict[str, int] = {}
        self.released: list[tuple[str, str, str]] = []  # (network, mac, ip)
        self._state = statefile.open_state(
            CONF.fake_nsa.state_file if state_file is None else state_file
        )
        if self._state is not None:
            self._load(self._state.load().get("networks") or {})

    # -- the state file ----------------------------------------------------
    def _load(self, saved: dict) -> None:
        # Checked again as an RPC message is: the file is input too.
        for entry in saved.values():
            net = records.parse_network(entry["network"])
            self._networks[net.id] = net
            self._tables[net.id] = ReservationTable(
                records.parse_reservations(net, entry["reservations"])
            )
            self.reloads[net.id] = 0

    def _save(self) -> None:
        """After every change, with self._lock held."""
        if self._state is None:
            return
        networks = {
            nid: {
                "network": net.to_message(),
                "reservations": [
                    r.to_message() for r in self._tables[nid].all()
                ],
            }
            for nid, net in self._networks.items()
        }
        self._state.update(lambda doc: doc.update(networks=networks))

    def networks(self) -> dict[str, Network]:
        with self._lock:
            return dict(self._networks)

    def _table(self, network_id: str) -> ReservationTable:
        try:
            return self._tables[network_id]
        except KeyError:
            raise NetworkNotFound(network_id) from None

    def _account(self, network_id: str, change: Change) -> None:
        if change:
            self._save()
        if change.dropped:
            self.reloads[network_id] = self.reloads.get(network_id, 0) + 1
            self.released.extend(
                (network_id, r.mac, str(r.ip)) for r in change.dropped
            )

    def ensure_network(self, network: Network) -> None:
        with self._lock:
            if self._networks.get(network.id) == network:
                return
            self._networks[network.id] = network
            # Other settings: the reservations that still fit stay, as
            # with dnsmasq.
            old = self._tables.get(network.id, ReservationTable())
            self._tables[network.id] = ReservationTable(
                r for r in old.all() if network.contains(r.ip)
            )
            self.reloads.setdefault(network.id, 0)
            self._save()

    def remove_network(self, network_id: str) -> None:
        with self._lock:
            if self._networks.pop(network_id, None) is None:
                return
            self._tables.pop(network_id, None)
            self.reloads.pop(network_id, None)
            self._save()

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
