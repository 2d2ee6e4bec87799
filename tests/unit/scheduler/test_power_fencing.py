"""Power fencing through a host's BMC, over a scripted power interface
and a fake clock (the real ipmitool path: tests/integration/power_fencing)."""

import pytest
import sqlalchemy as sa

from arame.agents.bma import errors as bma_errors
from arame.agents.bma.drivers.base import POWER_OFF, POWER_ON, PowerInterface
from arame.common import secretbox
from arame.common.db import engine, models
from arame.scheduler import power_fencing

PASSWORD = "bmc-Pass-0001"


class ScriptedPower(PowerInterface):
    """Reports `states` one read after another (the last one forever)."""

    def __init__(self, *states, fail=None):
        self.states = list(states)
        self.fail = fail
        self.asked: list[str] = []
        self.seen: list = []

    def get_power_state(self, bmc):
        self.seen.append(bmc)
        if self.fail:
            raise self.fail
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def set_power_state(self, bmc, state):
        self.asked.append(state)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, s):
        self.now += s


def _host(name, add_host, bmc=True):
    add_host(name)
    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == name))
        if bmc:
            h.bmc_address = "192.0.2.50"
            h.bmc_port = 6230
            h.bmc_username = "admin"
            h.bmc_password = secretbox.seal(PASSWORD)
        s.flush()
        s.expunge(h)
        return h


def test_no_bmc_is_said(db, add_host):
    host = _host("hv1", add_host, bmc=False)
    assert power_fencing.fence_host_power(host) == "no-bmc"
    assert power_fencing.power_fence({}, "hv1", 5) is None


def test_power_cut_and_confirmed_off(db, add_host):
    host = _host("hv1", add_host)
    power, clock = ScriptedPower(POWER_ON, POWER_ON, POWER_OFF), FakeClock()
    got = power_fencing.power_off(
        host, 30, power=power, clock=clock, sleep=clock.sleep
    )
    assert power.asked == [POWER_OFF]
    assert got["power_state"] == "off" and got["changed"] is True
    assert got["bmc"] == "192.0.2.50:6230"
    bmc = power.seen[0]
    assert (bmc.username, bmc.password, bmc.interface) == (
        "admin",
        PASSWORD,
        "lanplus",
    )
    assert PASSWORD not in repr(bmc) and PASSWORD not in str(got)


def test_a_host_already_off_is_not_asked_again(db, add_host):
    host = _host("hv1", add_host)
    power = ScriptedPower(POWER_OFF)
    got = power_fencing.power_off(host, 30, power=power)
    assert got["changed"] is False and power.asked == []


def test_a_host_that_stays_on_fails_the_fence(db, add_host):
    host = _host("hv1", add_host)
    power, clock = ScriptedPower(POWER_ON), FakeClock()
    with pytest.raises(power_fencing.PowerFenceFailed, match="host hv1"):
        power_fencing.power_off(
            host, 10, power=power, clock=clock, sleep=clock.sleep
        )
    assert 10 <= clock.now <= 12


@pytest.mark.parametrize(
    "error",
    [
        bma_errors.BMCUnreachable("BMC of host hv1 did not answer"),
        bma_errors.BMCAuthFailed("BMC of host hv1 refused user 'admin'"),
    ],
)
def test_a_bmc_that_fails_is_a_clear_error(db, add_host, error):
    host = _host("hv1", add_host)
    with pytest.raises(power_fencing.PowerFenceFailed) as exc:
        power_fencing.power_off(host, 10, power=ScriptedPower(fail=error))
    msg = str(exc.value)
    assert "cannot power off host hv1 through its BMC 192.0.2.50:6230" in msg
    assert str(error) in msg and PASSWORD not in msg


def test_power_fence_by_name(db, add_host, monkeypatch):
    _host("hv1", add_host)
    monkeypatch.setattr(
        power_fencing,
        "_control",
        lambda timeout, *a: power_fencing.PowerControl(
            power_fencing.HardwareType(ScriptedPower(POWER_OFF), None)
        ),
    )
    assert power_fencing.power_fence({}, "hv1", 5)["power_state"] == "off"
    assert power_fencing.fence_host_power(_row("hv1")) == "off"
    with pytest.raises(power_fencing.PowerFenceFailed, match="not registered"):
        power_fencing.power_fence({}, "nohost", 5)


def _row(name):
    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == name))
        s.expunge(h)
        return h
