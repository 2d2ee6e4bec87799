"""The first thing a hypervisor agent does, before its RPC servers and
its heartbeat: destroy the stale copies of guests this host still runs
though the controller placed them elsewhere (an evacuation while the host
was down) or deleted them (manager.destroy_stale_copies).

Until the controller has said which guests belong here, the agent does
not report up: it asks again until [DEFAULT] service_down_time x 2 has
passed, then fails to start (the service manager starts it again), rather
than serve next to copies that may be running twice.
"""

import time

from oslo_log import log

from arame.common import exceptions, waiting

LOG = log.getLogger(__name__)


class StaleCopiesUnknown(exceptions.ArameError):
    """The controller could not say which guests belong on this host."""


class DestroyStaleCopies:
    """A start-up component (its start() returns once done)."""

    def __init__(
        self,
        managers,
        collector,
        timeout: float,
        interval: float = 2.0,
        clock=time.monotonic,
        sleep=time.sleep,
    ):
        self.managers = list(managers)
        self.collector = collector
        self.timeout = timeout
        self.interval = interval
        self.clock, self.sleep = clock, sleep
        self.destroyed: dict[str, list[str]] = {}

    def start(self) -> None:
        for m in self.managers:
            self.destroyed[m.host] = self._once(m)

    def _once(self, manager) -> list[str]:
        last: list = [None]

        def attempt():
            try:
                return (manager.destroy_stale_copies(self.collector),)
            except Exception as e:  # noqa: BLE001  (asked again)
                last[0] = e
                LOG.warning(
                    "%s: cannot learn which guests belong here yet: %s",
                    manager.host,
                    e,
                )
                return None

        try:
            return waiting.wait_for(
                attempt,
                self.timeout,
                f"the controller's list of {manager.host}'s guests",
                interval=self.interval,
                clock=self.clock,
                sleep=self.sleep,
            )[0]
        except waiting.WaitTimeout:
            raise StaleCopiesUnknown(
                f"{manager.host}: the controller did not say which guests "
                f"belong here within {self.timeout:g}s ({last[0]}); not "
                "reporting up beside copies that may be stale"
            ) from None

    def stop(self) -> None:
        pass
