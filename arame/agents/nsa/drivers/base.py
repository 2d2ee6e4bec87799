"""The naming driver interface: what nsa needs from dnsmasq (or a fake).

One driver object serves every network of the node. Callers pass checked
records (arame.agents.nsa.records); the driver is thread-safe (RPC calls
arrive on several threads) and serialises the changes of each network.
Every operation is idempotent:
ensuring a served network, adding a present reservation or removing an
absent one changes nothing.
"""

import abc

from arame.agents.nsa.records import Network, Reservation


class NetworkNotFound(LookupError):
    pass


class NamingDriver(abc.ABC):
    def init_host(self) -> None:
        """Called once at start: serve again what the node served before."""

    def stop(self) -> None:
        """Called once at stop: the networks stop being served."""

    @abc.abstractmethod
    def networks(self) -> dict[str, Network]:
        """Every network served here, by id."""

    @abc.abstractmethod
    def ensure_network(self, network: Network) -> None:
        """Serve `network` (its bridge address, its dnsmasq); a network
        served with other settings is brought to these."""

    @abc.abstractmethod
    def remove_network(self, network_id: str) -> None:
        """Stop serving it and remove everything made for it."""

    @abc.abstractmethod
    def reservations(self, network_id: str) -> list[Reservation]:
        """Raises NetworkNotFound."""

    @abc.abstractmethod
    def add_reservation(self, network_id: str, res: Reservation) -> None:
        """Raises NetworkNotFound."""

    @abc.abstractmethod
    def remove_reservation(self, network_id: str, mac: str) -> None:
        """Raises NetworkNotFound."""

    @abc.abstractmethod
    def sync(self, network: Network, reservations: list[Reservation]) -> dict:
        """Serve `network` holding exactly `reservations`; returns
        {"written": n, "dropped": n}."""

    @abc.abstractmethod
    def network_status(self, network_id: str) -> dict:
        """{"reservations": n, "running": bool, ...} (driver-specific keys
        beside these two)."""
