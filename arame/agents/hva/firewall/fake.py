"""A firewall in memory with the real one's contract (validation,
idempotence), for unit tests of its callers."""

import threading

from arame.agents.hva.firewall import base
from arame.agents.hva.firewall.port import (
    Port,
    check_group_id,
    check_instance_id,
    check_ips,
)


class FakeFirewall(base.Firewall):
    def __init__(self, netns: str | None = None):
        super().__init__(netns)
        self._lock = threading.Lock()
        self.applied: dict[str, Port] = {}
        self.members: dict[str, tuple[str, ...]] = {}
        self.set_up = False

    def setup(self) -> None:
        self.set_up = True

    def apply_port(self, port: dict) -> None:
        p = Port.from_dict(port)
        with self._lock:
            self.applied[p.instance_id] = p
            self.members.update(p.members)

    def remove_port(self, instance_id: str) -> None:
        check_instance_id(instance_id)
        with self._lock:
            self.applied.pop(instance_id, None)

    def set_group_members(self, group_id: str, ips: list[str]) -> None:
        members = check_ips(ips)
        with self._lock:
            self.members[check_group_id(group_id)] = members

    def ports(self) -> set[str]:
        with self._lock:
            return set(self.applied)
