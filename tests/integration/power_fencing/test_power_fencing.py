"""Power fencing through a real IPMI BMC: OpenIPMI's ipmi_sim on a free
UDP port of 127.0.0.1 (IPMI 1.5, `lan`), reached by the real ipmitool.

No libvirt: the simulator's chassis program keeps the "host"'s power in
a file of the test's own directory (1 on, 0 off). ipmi_sim is ours,
stopped by its PID at the end, also after a failure.
"""

import logging
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from arame.common import runner, secretbox
from arame.common.conf import CONF
from arame.common.db import models
from arame.scheduler import power_fencing
from tests.helpers.ports import udp_port
from tests.helpers.waiting import wait_until
from tests.integration.bma.ipmisim import EMU, LAN_CONF

RUN = "h5f" + uuid.uuid4().hex[:5]
USERNAME = "admin"
PASSWORD = "Pw-" + uuid.uuid4().hex[:12]

CHASSIS = """#!{python}
# ipmi_sim chassis control: <mc> get|set <parm> [val]; power in a file.
import sys

STATE = {state!r}
op, params = sys.argv[2], sys.argv[3:]
if op == "get":
    for p in params:
        if p == "power":
            print("power:" + open(STATE).read().strip())
        elif p == "boot":
            print("boot:default")
        else:
            print(f"Invalid parameter: {{p}}")
            sys.exit(1)
elif op == "set":
    for p, v in zip(params[::2], params[1::2]):
        if p == "power":
            open(STATE, "w").write(v)
        elif p == "shutdown" and v == "1":
            open(STATE, "w").write("0")
else:
    sys.exit(1)
"""


def _write(path, text, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)


class Bmc:
    def __init__(self, workdir):
        self.dir = workdir
        self.port = udp_port()
        self.power_file = os.path.join(workdir, "power")
        self.set_power("1")
        chassis = os.path.join(workdir, "chassis")
        _write(
            chassis,
            CHASSIS.format(python=sys.executable, state=self.power_file),
            0o700,
        )
        conf = os.path.join(workdir, "lan.conf")
        _write(
            conf,
            LAN_CONF.format(
                name=RUN,
                port=self.port,
                chassis=chassis,
                username=USERNAME,
                password=PASSWORD,
            ),
            0o600,
        )
        emu = os.path.join(workdir, "bmc.emu")
        _write(emu, EMU, 0o600)
        os.makedirs(os.path.join(workdir, "state"))
        self.log = open(os.path.join(workdir, "ipmi_sim.log"), "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                "ipmi_sim",
                "-c",
                conf,
                "-f",
                emu,
                "-s",
                os.path.join(workdir, "state"),
                "-n",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )

    def power(self) -> str:
        with open(self.power_file) as f:
            return f.read().strip()

    def set_power(self, value: str) -> None:
        with open(self.power_file, "w") as f:
            f.write(value)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


@pytest.fixture(scope="module")
def bmc(tmp_path_factory):
    b = Bmc(str(tmp_path_factory.mktemp(RUN)))
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def conf(tmp_path):
    overrides = {
        ("credential_key_file", None): str(tmp_path / "credential.key"),
        ("call_attempts", "bma"): 1,
        ("ipmitool_timeout", "bma"): 1,
        ("power_poll_interval", "bma"): 0.1,
    }
    for (name, group), value in overrides.items():
        CONF.set_override(name, value, group)
    yield
    for name, group in overrides:
        CONF.clear_override(name, group)


def host(port, password=PASSWORD, name="hv-" + RUN) -> models.Host:
    return models.Host(
        id="h-" + uuid.uuid4().hex[:8],
        name=name,
        bmc_address="127.0.0.1",
        bmc_port=port,
        bmc_username=USERNAME,
        bmc_password=secretbox.seal(password),
        bmc_interface="lan",
    )


@pytest.fixture
def runs(monkeypatch):
    """Every command the runner runs (ipmitool's argument lists)."""
    seen, real = [], runner.run

    def spy(args, **kw):
        seen.append(list(args))
        return real(args, **kw)

    monkeypatch.setattr(runner, "run", spy)
    return seen


def test_power_off_confirmed_through_ipmi(bmc, conf, runs, caplog):
    caplog.set_level(logging.DEBUG)
    h = host(bmc.port)

    def answers():
        assert bmc.proc.poll() is None, "ipmi_sim exited"
        try:
            return power_fencing.power_off(h, 20) is not None
        except power_fencing.PowerFenceFailed:
            return False

    bmc.set_power("1")
    t0 = time.monotonic()
    wait_until(answers, 30, "ipmi_sim to answer and power off", interval=0.2)
    assert bmc.power() == "0"
    print(f"power fence through ipmi_sim: {time.monotonic() - t0:.2f}s")

    # Off already: confirmed, not asked again.
    before = len(runs)
    assert power_fencing.fence_host_power(h, 20) == "off"
    assert bmc.power() == "0"
    assert len(runs) - before == 1  # one chassis status

    bmc.set_power("1")
    got = power_fencing.power_off(h, 20)
    assert got["changed"] is True and got["power_state"] == "off"
    assert bmc.power() == "0"

    ipmitool = [a for a in runs if a[0] == "ipmitool"]
    assert ipmitool and all("-f" in a for a in ipmitool)
    assert not [a for a in ipmitool if any(PASSWORD in x for x in a)]
    assert PASSWORD not in caplog.text
    # The password files are gone.
    assert not [
        a[a.index("-f") + 1]
        for a in ipmitool
        if os.path.exists(a[a.index("-f") + 1])
    ]


def test_a_wrong_password_and_a_silent_bmc_are_clear_errors(bmc, conf):
    with pytest.raises(power_fencing.PowerFenceFailed, match="wrong password"):
        power_fencing.fence_host_power(host(bmc.port, "x" + PASSWORD), 20)
    t0 = time.monotonic()
    with pytest.raises(
        power_fencing.PowerFenceFailed,
        match=r"cannot power off host .* BMC 127\.0\.0\.1:\d+: .*did not answer",
    ):
        power_fencing.fence_host_power(host(udp_port()), 10)
    assert time.monotonic() - t0 < 30


def test_no_bmc(conf):
    bare = models.Host(id="h-1", name="hv-bare")
    assert power_fencing.fence_host_power(bare) == "no-bmc"
