"""Power fencing: cut a down hypervisor host's power through its BMC
(hosts.bmc_*, set with PUT /v1/hosts/{id}/bmc) and confirm it is off,
before its instances are started elsewhere.

The scheduler talks IPMI itself, with the bare-metal agent's ipmitool
driver (agents/bma/drivers: argument lists, the password in a 0600 file
for the length of one call, never in argv or a log) and its power
control (agents/bma/power.py: ask, then poll the chassis status until
off, with a deadline). ipmitool's options come from [bma] (cipher suite,
privilege, password directory); the deadline from [ha] fence_timeout.

A host already off is not asked again. A host with no BMC is "no-bmc":
its storage fence is all there is. A BMC that does not answer, refuses
the credentials, or does not report off in time is a PowerFenceFailed:
the host may still run, so nothing of it may start elsewhere.
"""

import dataclasses
import time

import sqlalchemy as sa
from oslo_log import log

from arame.agents.bma import errors as bma_errors
from arame.agents.bma.drivers.base import BMC, POWER_OFF, HardwareType
from arame.agents.bma.drivers.ipmitool import IPMIPower
from arame.agents.bma.drivers.ipmitool_transport import Settings
from arame.agents.bma.power import PowerControl, Timing
from arame.common import exceptions, secretbox
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

LOG = log.getLogger(__name__)

OFF = "off"
NO_BMC = "no-bmc"


class PowerFenceFailed(exceptions.ArameError):
    """The host's power could not be cut, or its being off confirmed."""

    code = "power_fence_failed"


def host_bmc(host: models.Host) -> BMC | None:
    """The host's BMC as the ipmitool driver takes it; None if none."""
    if not host.bmc_address:
        return None
    return BMC(
        node_id=f"host {host.name}",
        address=host.bmc_address,
        port=host.bmc_port or 623,
        username=host.bmc_username or "",
        password=secretbox.unseal(host.bmc_password or ""),
        interface=host.bmc_interface or "lanplus",
    )


def _control(timeout: float, power=None, clock=None, sleep=None):
    if power is None:
        settings = Settings.from_config(CONF)
        # No single ipmitool run may outlast the whole fence.
        settings = dataclasses.replace(
            settings,
            command_timeout=min(settings.command_timeout, timeout),
        )
        power = IPMIPower(settings)
    # Power only: fencing never touches the boot device.
    driver = HardwareType(power, management=None)
    timing = Timing(
        state_timeout=timeout,
        poll_interval=min(CONF.bma.power_poll_interval, timeout),
    )
    return PowerControl(
        driver,
        timing,
        clock=clock or time.monotonic,
        sleep=sleep or time.sleep,
    )


def power_off(
    host: models.Host,
    timeout: float | None = None,
    *,
    power=None,
    clock=None,
    sleep=None,
) -> dict | None:
    """{"power_state": "off", "changed", "seconds", "bmc"}, or None when
    the host has no BMC. `power` (a bma PowerInterface), `clock` and
    `sleep` are for tests."""
    bmc = host_bmc(host)
    if bmc is None:
        return None
    timeout = timeout or CONF.ha.fence_timeout
    control = _control(timeout, power, clock, sleep)
    t0 = control.clock()
    try:
        got = control.power_off(bmc)
    except bma_errors.BMCError as e:
        raise PowerFenceFailed(
            f"cannot power off host {host.name} through its BMC "
            f"{bmc.address}:{bmc.port}: {e}"
        ) from None
    if got["power_state"] != POWER_OFF:  # power_off raises first
        raise PowerFenceFailed(f"host {host.name} is not off: {got}")
    seconds = round(control.clock() - t0, 2)
    LOG.warning(
        "fenced host %s: power off through its BMC %s:%s (%s, %.2fs)",
        host.name,
        bmc.address,
        bmc.port,
        "cut" if got["changed"] else "already off",
        seconds,
    )
    return {
        **got,
        "seconds": seconds,
        "bmc": f"{bmc.address}:{bmc.port}",
    }


def fence_host_power(host: models.Host, timeout: float | None = None) -> str:
    """ "off" once the host's BMC reports it off, "no-bmc" if it has none;
    PowerFenceFailed when the BMC does not answer or the host stays on."""
    return NO_BMC if power_off(host, timeout) is None else OFF


def power_fence(ctxt, host: str, timeout: float) -> dict | None:
    """The scheduler's evacuation takes this form (flows/fencing.py
    PowerFence): by host name; None when the host has no BMC."""
    with db_engine.session() as s:
        row = s.scalar(sa.select(models.Host).where(models.Host.name == host))
        if row is None:
            raise PowerFenceFailed(f"host {host} is not registered")
        s.expunge(row)
    return power_off(row, timeout)
