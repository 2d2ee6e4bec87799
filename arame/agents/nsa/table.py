"""The reservations of one network, keyed by MAC, and what each change does.

Pure bookkeeping shared by every driver: a change returns the entries to
write and the entries that stop being served. Writing is cheap for dnsmasq
(it watches its directories); an entry that stops being served needs a
reload and frees its lease, so drivers treat the two lists differently.

The controller is the source of truth: a reservation for an address or a
host name that another MAC holds replaces that entry (it can only be stale:
the controller just handed the address or name to this MAC).
"""

import dataclasses

from arame.agents.nsa.records import Reservation


@dataclasses.dataclass
class Change:
    written: list[Reservation] = dataclasses.field(default_factory=list)
    dropped: list[Reservation] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.written or self.dropped)

    def extend(self, other: "Change") -> None:
        self.written.extend(other.written)
        self.dropped.extend(other.dropped)


class ReservationTable:
    def __init__(self, reservations=()):
        self._by_mac: dict[str, Reservation] = {}
        self._mac_by_ip: dict = {}
        self._mac_by_name: dict[str, str] = {}
        for r in reservations:
            self.add(r)

    def __len__(self) -> int:
        return len(self._by_mac)

    def __contains__(self, mac: str) -> bool:
        return mac in self._by_mac

    def get(self, mac: str) -> Reservation | None:
        return self._by_mac.get(mac)

    def all(self) -> list[Reservation]:
        return list(self._by_mac.values())

    def _drop(self, mac: str) -> Reservation | None:
        old = self._by_mac.pop(mac, None)
        if old is not None:
            self._mac_by_ip.pop(old.ip, None)
            self._mac_by_name.pop(old.hostname, None)
        return old

    def add(self, res: Reservation) -> Change:
        """Idempotent: the same reservation twice changes nothing; the same
        MAC with another address or name replaces (a rename); the same
        MAC, address and name with another boot script is only rewritten."""
        cur = self._by_mac.get(res.mac)
        if cur == res:
            return Change()
        if cur is not None and cur.same_lease(res):
            # Only the boot script changed: rewritten, nothing dropped (a
            # drop would release the node's lease and reload dnsmasq).
            self._by_mac[res.mac] = res
            return Change(written=[res])
        change = Change(written=[res])
        for mac in {
            res.mac,
            self._mac_by_ip.get(res.ip),
            self._mac_by_name.get(res.hostname),
        } - {None}:
            old = self._drop(mac)
            if old is not None:
                change.dropped.append(old)
        self._by_mac[res.mac] = res
        self._mac_by_ip[res.ip] = res.mac
        self._mac_by_name[res.hostname] = res.mac
        return change

    def remove(self, mac: str) -> Change:
        old = self._drop(mac)
        return Change(dropped=[old] if old is not None else [])

    def replace_all(self, expected) -> Change:
        """Make the table hold exactly `expected` (a full resync)."""
        expected = {r.mac: r for r in expected}
        change = Change()
        for mac, cur in list(self._by_mac.items()):
            want = expected.get(mac)
            if want is None or not want.same_lease(cur):
                change.extend(self.remove(mac))
        for res in expected.values():
            change.extend(self.add(res))
        return change
