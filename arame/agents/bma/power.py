"""Power operations as the controller means them, over any driver: ask
the BMC, then wait until the node is there (a BMC accepts "power on" long
before the chassis is on), with a deadline.

- power on / off: nothing is sent if the node is already there.
- soft power off: ACPI, up to `soft_off_timeout`; then a hard power off.
- reboot: a hard power off then power on (also from off), so the boot
  device just set is what the node starts from, as Ironic does.
"""

import dataclasses
import time

from oslo_log import log

from arame.agents.bma import errors
from arame.agents.bma.drivers.base import (
    BMC,
    POWER_OFF,
    POWER_ON,
    SOFT_POWER_OFF,
    HardwareType,
)
from arame.common import waiting

LOG = log.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Timing:
    state_timeout: float = 60.0  # to reach on or off after asking
    poll_interval: float = 1.0
    soft_off_timeout: float = 120.0

    @classmethod
    def from_config(cls, conf) -> "Timing":
        return cls(
            state_timeout=conf.bma.power_state_timeout,
            poll_interval=conf.bma.power_poll_interval,
            soft_off_timeout=conf.bma.soft_power_off_timeout,
        )


class PowerControl:
    """`clock` and `sleep` measure and pass the waits (a test's fake clock
    makes them cost no time)."""

    def __init__(
        self,
        driver: HardwareType,
        timing: Timing | None = None,
        clock=time.monotonic,
        sleep=time.sleep,
    ):
        self.driver = driver
        self.timing = timing or Timing()
        self.clock, self.sleep = clock, sleep

    def state(self, bmc: BMC) -> str:
        return self.driver.power.get_power_state(bmc)

    def _wait(self, bmc: BMC, want: str, timeout: float) -> bool:
        """Whether the node reached `want` within `timeout` seconds."""
        try:
            return waiting.wait_for(
                lambda: self.state(bmc) == want,
                timeout,
                f"{bmc} to be {want}",
                interval=self.timing.poll_interval,
                clock=self.clock,
                sleep=self.sleep,
            )
        except waiting.WaitTimeout:
            return False

    def _set(self, bmc: BMC, want: str) -> dict:
        t0 = self.clock()
        self.driver.power.set_power_state(bmc, want)
        if not self._wait(bmc, want, self.timing.state_timeout):
            raise errors.PowerStateTimeout(
                f"{bmc} is not {want} {self.timing.state_timeout:g}s after "
                f"power {want} was accepted"
            )
        LOG.info("%s: power %s in %.2fs", bmc, want, self.clock() - t0)
        return {"power_state": want, "changed": True}

    def power_on(self, bmc: BMC) -> dict:
        if self.state(bmc) == POWER_ON:
            return {"power_state": POWER_ON, "changed": False}
        return self._set(bmc, POWER_ON)

    def power_off(self, bmc: BMC) -> dict:
        if self.state(bmc) == POWER_OFF:
            return {"power_state": POWER_OFF, "changed": False}
        return self._set(bmc, POWER_OFF)

    def soft_power_off(self, bmc: BMC) -> dict:
        """{"power_state": "off", "changed", "forced"}: forced when the
        operating system ignored ACPI and the power was cut."""
        if self.state(bmc) == POWER_OFF:
            return {
                "power_state": POWER_OFF,
                "changed": False,
                "forced": False,
            }
        self.driver.power.set_power_state(bmc, SOFT_POWER_OFF)
        if self._wait(bmc, POWER_OFF, self.timing.soft_off_timeout):
            return {"power_state": POWER_OFF, "changed": True, "forced": False}
        LOG.warning(
            "%s did not power off within %gs of the ACPI request: "
            "powering off hard",
            bmc,
            self.timing.soft_off_timeout,
        )
        return {**self._set(bmc, POWER_OFF), "forced": True}

    def reboot(self, bmc: BMC) -> dict:
        if self.state(bmc) == POWER_ON:
            self._set(bmc, POWER_OFF)
        return self._set(bmc, POWER_ON)
