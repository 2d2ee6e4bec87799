"""The fake hardware type: nodes in memory, for the all-in-one, the
functional tests and scale tests of the agent.

A node exists once named. Tests shape the failures: `unreachable` (BMC
addresses that never answer), `credentials` (node id -> (user, password)
the BMC accepts; a node absent accepts any), `acpi` False (the operating
system ignores soft power off), `lag` (status reads before a requested
power state shows, as a real chassis takes time).
"""

import dataclasses
import threading

from arame.agents.bma import errors
from arame.agents.bma.drivers import base


@dataclasses.dataclass
class FakeNode:
    power_state: str = base.POWER_OFF
    boot_device: str | None = None
    persistent: bool = False
    acpi: bool = True
    pending: str | None = None  # a requested state not showing yet
    reads_left: int = 0


class FakeHardware(base.HardwareType):
    name = "fake"

    def __init__(self, lag: int = 0):
        self.lag = lag
        self.nodes: dict[str, FakeNode] = {}
        self.unreachable: set[str] = set()
        self.credentials: dict[str, tuple[str, str]] = {}
        self.calls: list[tuple[str, str, str]] = []  # (node id, call, arg)
        self._lock = threading.Lock()
        super().__init__(FakePower(self), FakeManagement(self))

    @classmethod
    def from_config(cls, conf) -> "FakeHardware":
        return cls()

    def node(self, bmc: base.BMC, call: str, arg: str = "") -> FakeNode:
        """The node behind `bmc`, after the checks a BMC would make."""
        with self._lock:
            self.calls.append((bmc.node_id, call, arg))
        if bmc.address in self.unreachable:
            raise errors.BMCUnreachable(f"BMC of {bmc} did not answer")
        wanted = self.credentials.get(bmc.node_id)
        if wanted is not None and wanted != (bmc.username, bmc.password):
            raise errors.BMCAuthFailed(
                f"BMC of {bmc} refused user {bmc.username!r}: wrong password"
            )
        with self._lock:
            return self.nodes.setdefault(bmc.node_id, FakeNode())


class FakePower(base.PowerInterface):
    def __init__(self, hw: FakeHardware):
        self.hw = hw

    def get_power_state(self, bmc: base.BMC) -> str:
        n = self.hw.node(bmc, "get_power_state")
        if n.pending is not None:
            if n.reads_left <= 0:
                n.power_state, n.pending = n.pending, None
            n.reads_left -= 1
        return n.power_state

    def set_power_state(self, bmc: base.BMC, state: str) -> None:
        n = self.hw.node(bmc, "set_power_state", state)
        if state == base.SOFT_POWER_OFF:
            if not n.acpi:
                return
            state = base.POWER_OFF
        if state != n.power_state:
            n.pending, n.reads_left = state, self.hw.lag


class FakeManagement(base.ManagementInterface):
    def __init__(self, hw: FakeHardware):
        self.hw = hw

    def set_boot_device(
        self, bmc: base.BMC, device: str, persistent: bool = False
    ) -> None:
        n = self.hw.node(bmc, "set_boot_device", device)
        n.boot_device, n.persistent = device, persistent

    def get_boot_device(self, bmc: base.BMC) -> dict:
        n = self.hw.node(bmc, "get_boot_device")
        return {"boot_device": n.boot_device, "persistent": n.persistent}
