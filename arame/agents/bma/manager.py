"""RPC endpoint of the bare-metal agent: power and boot device of nodes
through their BMC.

Every node a message names is checked (checks.node) before anything
reaches a driver; the BMC password it carries lives in the message and,
for the length of one call, in a 0600 file for ipmitool. Operations on
one node are serialised (locks.py) and idempotent; the waiting and the
soft-then-hard logic is power.py's. Refusals and BMC failures are the
typed errors of errors.py (the caller sees the class name in
RemoteError.exc_type). Power states seen go to power_sync.PowerStates,
which notifies the collector when they change.

Every operation is idempotent, so the scheduler may ask again whatever it
is not sure was done (a retry after a timeout, a flow resumed after a
crash): power_on of a node that is on and power_off or soft_power_off of
one that is off send nothing to the BMC and answer the same power state
("changed" False: this call did not move it); set_boot_device again sets
the same device; reboot again ends on from the same boot device (the node
restarts once more, which a deploy or a reboot asked twice tolerates);
validate and get_power_state only read.
"""

import contextlib

import oslo_messaging as messaging
from oslo_log import log

from arame.agents.base import PingManager
from arame.agents.bma import checks, errors, messages
from arame.agents.bma.drivers.base import BMC, HardwareType
from arame.agents.bma.locks import NodeLocks
from arame.agents.bma.power import PowerControl, Timing
from arame.agents.bma.power_sync import POWER_ERROR, PowerStates
from arame.agents.bma.rpcapi import BINARY

LOG = log.getLogger(__name__)


class BMAManager(PingManager):
    """1.0 - ping
    1.1 - validate, power_on, power_off, soft_power_off, reboot,
          get_power_state, set_boot_device"""

    target = messaging.Target(version="1.1")

    def __init__(
        self,
        driver: HardwareType,
        timing: Timing | None = None,
        *,
        default_interface: str = "lanplus",
        notifier=None,
        host: str = "",
    ):
        super().__init__(BINARY)
        self.driver = driver
        self.power = PowerControl(driver, timing or Timing())
        self.default_interface = checks.interface(default_interface)
        self.locks = NodeLocks()
        self.power_states = PowerStates(notifier, host)

    def inventory(self) -> dict:
        """What the heartbeat carries."""
        return {
            "bare_metal": {
                "driver": self.driver.name,
                "nodes": len(self.power_states),
            }
        }

    @contextlib.contextmanager
    def _operation(self, node, what: str):
        bmc = checks.node(node, self.default_interface)
        with self.locks.hold(bmc.node_id):
            LOG.info("%s: %s", bmc, what)
            yield bmc

    def _power(self, node, what: str, operation) -> dict:
        with self._operation(node, what) as bmc:
            result = operation(bmc)
            self.power_states.observe(bmc.node_id, result["power_state"])
        return result

    # -- power -------------------------------------------------------------
    def validate(self, ctxt, node: messages.Node) -> dict:
        """The BMC answers these credentials: {"power_state",
        "boot_devices"}. BMCUnreachable / BMCAuthFailed otherwise."""
        with self._operation(node, "validate") as bmc:
            state = self.driver.power.validate(bmc)
            self.power_states.observe(bmc.node_id, state)
            devices = self.driver.management.get_supported_boot_devices(bmc)
        return {"power_state": state, "boot_devices": list(devices)}

    def get_power_state(self, ctxt, node: messages.Node) -> str:
        """ "on" or "off"."""
        with self._operation(node, "power status") as bmc:
            state = self.power.state(bmc)
            self.power_states.observe(bmc.node_id, state)
        return state

    def power_on(self, ctxt, node: messages.Node) -> dict:
        """{"power_state": "on", "changed"}, once the node is on."""
        return self._power(node, "power on", self.power.power_on)

    def power_off(self, ctxt, node: messages.Node) -> dict:
        """Hard: the power is cut. {"power_state": "off", "changed"}."""
        return self._power(node, "power off", self.power.power_off)

    def soft_power_off(self, ctxt, node: messages.Node) -> dict:
        """ACPI, then hard after [bma] soft_power_off_timeout:
        {"power_state": "off", "changed", "forced"}."""
        return self._power(node, "soft power off", self.power.soft_power_off)

    def reboot(self, ctxt, node: messages.Node) -> dict:
        """Hard off (if on), then on: {"power_state": "on", "changed"}."""
        return self._power(node, "reboot", self.power.reboot)

    # -- boot device -------------------------------------------------------
    def set_boot_device(
        self, ctxt, node: messages.Node, device: str, persistent: bool = False
    ) -> dict:
        """device "pxe" or "disk", for the next boot only unless
        persistent: {"boot_device", "persistent"}."""
        checks.boot_device(device)
        checks.persistent(persistent)
        what = f"boot device {device}" + (
            " (persistent)" if persistent else ""
        )
        with self._operation(node, what) as bmc:
            self.driver.management.set_boot_device(bmc, device, persistent)
        return {"boot_device": device, "persistent": persistent}

    # -- for the power sync ------------------------------------------------
    def poll_power_state(self, bmc: BMC) -> tuple[str | None, str | None]:
        """(state, reason) of a checked node, recorded; (None, None) if an
        operation holds the node right now."""
        with self.locks.try_hold(bmc.node_id) as free:
            if not free:
                return None, None
            try:
                state, reason = self.power.state(bmc), None
            except errors.BMCError as e:
                state, reason = POWER_ERROR, str(e)
            self.power_states.observe(bmc.node_id, state, reason)
        return state, reason


class RPCEndpoint:
    """The manager as oslo.messaging sees it: its RPC methods only, the
    refusals and BMC failures of errors.EXPECTED marked expected (no
    traceback in the agent's log: they are the BMC's story, not a bug).
    Direct callers use the manager itself."""

    def __init__(self, manager: BMAManager):
        self._manager = manager
        self.target = manager.target

    METHODS = (
        "ping",
        "validate",
        "get_power_state",
        "power_on",
        "power_off",
        "soft_power_off",
        "reboot",
        "set_boot_device",
    )

    def __getattr__(self, name):
        if name not in self.METHODS:
            raise AttributeError(name)
        return messaging.expected_exceptions(*errors.EXPECTED)(
            getattr(self._manager, name)
        )
