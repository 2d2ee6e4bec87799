"""Power and boot device of a libvirt domain through virtualbmc, by the
agent's ipmitool driver: what the BMC reports and what libvirt shows."""

import logging
import os
import stat
import time

import pytest

from arame.agents.bma import errors
from arame.agents.bma.drivers.ipmitool import IPMIHardware
from arame.agents.bma.manager import BMAManager
from arame.common import runner
from tests.helpers.ports import udp_port

from .conftest import PASSWORD, TIMING, settings


def timed(fn, *args, **kw):
    t0 = time.monotonic()
    out = fn(*args, **kw)
    return out, time.monotonic() - t0


def test_power_on_and_off(lab, manager):
    node = lab.node()
    assert manager.get_power_state({}, node) == "off"
    assert manager.validate({}, node)["power_state"] == "off"
    out, took = timed(manager.power_on, {}, node)
    assert out == {"power_state": "on", "changed": True}
    assert lab.domain.state() == "running"
    assert manager.get_power_state({}, node) == "on"
    print(f"power on: {took:.2f}s")
    out, took = timed(manager.power_off, {}, node)
    assert out == {"power_state": "off", "changed": True}
    assert lab.domain.state() == "shut off"
    assert manager.get_power_state({}, node) == "off"
    print(f"power off: {took:.2f}s")
    # Again: nothing to do, nothing sent.
    assert manager.power_off({}, node)["changed"] is False


def test_status_latency(lab, manager):
    node = lab.node()
    took = [timed(manager.get_power_state, {}, node)[1] for _ in range(10)]
    print(
        f"power status: median {sorted(took)[5] * 1000:.0f} ms, "
        f"max {max(took) * 1000:.0f} ms"
    )
    assert sorted(took)[5] < 1.0


def test_boot_device_lands_in_the_domain_definition(lab, manager):
    node = lab.node()
    out, took = timed(manager.set_boot_device, {}, node, "pxe")
    assert out == {"boot_device": "pxe", "persistent": False}
    assert lab.domain.boot_devs() == ["network"]
    print(f"set boot device: {took:.2f}s")
    bmc = manager.driver.management
    from arame.agents.bma import checks

    assert bmc.get_boot_device(checks.node(node))["boot_device"] == "pxe"
    manager.set_boot_device({}, node, "disk", persistent=True)
    assert lab.domain.boot_devs() == ["hd"]
    assert bmc.get_boot_device(checks.node(node))["boot_device"] == "disk"


def test_reboot_restarts_the_domain(lab, manager):
    node = lab.node()
    manager.power_on({}, node)
    first = lab.domain.domid()
    out, took = timed(manager.reboot, {}, node)
    assert out["power_state"] == "on"
    assert lab.domain.state() == "running"
    assert lab.domain.domid() != first  # a new qemu: it really restarted
    print(f"reboot: {took:.2f}s")


def test_soft_power_off_of_a_deaf_guest_turns_hard(lab, manager):
    # The guest sits in its BIOS: nobody handles the ACPI power button.
    node = lab.node()
    manager.power_on({}, node)
    out, took = timed(manager.soft_power_off, {}, node)
    assert out == {"power_state": "off", "changed": True, "forced": True}
    assert lab.domain.state() == "shut off"
    assert TIMING.soft_off_timeout <= took < TIMING.soft_off_timeout + 10


def test_wrong_password_is_refused_fast_and_touches_nothing(lab, manager):
    node = lab.node()
    manager.power_on({}, node)
    bad = lab.node(bmc_password="not-" + PASSWORD[:10])
    t0 = time.monotonic()
    with pytest.raises(errors.BMCAuthFailed, match="wrong password"):
        manager.power_off({}, bad)
    took = time.monotonic() - t0
    # One try (never retried), within one ipmitool timeout.
    assert took < settings().timeout * (settings().retries + 1)
    assert lab.domain.state() == "running"
    print(f"wrong password refused in {took * 1000:.0f} ms")


def test_unknown_user_is_an_auth_failure(lab, manager):
    with pytest.raises(errors.BMCAuthFailed, match="nobody"):
        manager.get_power_state({}, lab.node(bmc_username="nobody"))


def test_unreachable_bmc_within_timeout_and_retries(lab):
    s = settings(timeout=1, retries=1, attempts=2, retry_interval=0.2)
    mgr = BMAManager(IPMIHardware(s), TIMING)
    node = lab.node(bmc_port=udp_port())  # nobody listens there
    t0 = time.monotonic()
    with pytest.raises(errors.BMCUnreachable, match="did not answer"):
        mgr.power_on({}, node)
    took = time.monotonic() - t0
    # Each ipmitool run: -N 1 s per packet, -R 1 resend; two runs, one wait.
    bound = s.attempts * s.timeout * (s.retries + 1) + s.retry_interval
    assert bound - 1 < took < bound + 2, took
    print(f"unreachable after {took:.2f}s (bound {bound:.1f}s)")


def test_password_never_in_argv_nor_in_logs(
    lab, tmp_path, monkeypatch, caplog
):
    """Every ipmitool run records its own /proc/<pid>/cmdline (a wrapper
    that then execs ipmitool: same process, same argv); the runner's
    argument lists and every log line are checked too, and no password
    file is left behind."""
    seen = tmp_path / "cmdlines"
    seen.mkdir()
    pwdir = tmp_path / "pw"
    pwdir.mkdir(mode=0o700)
    wrapper = tmp_path / "ipmitool"
    wrapper.write_text(
        f'#!/bin/sh\ncp /proc/$$/cmdline {seen}/$$\nexec ipmitool "$@"\n'
    )
    wrapper.chmod(0o755)
    argvs, modes = [], []
    real_run = runner.run

    def spy(args, **kw):
        if args[0] == str(wrapper):
            argvs.append(list(args))
            path = args[args.index("-f") + 1]
            modes.append(stat.S_IMODE(os.stat(path).st_mode))
        return real_run(args, **kw)

    monkeypatch.setattr(runner, "run", spy)
    caplog.set_level(logging.DEBUG)

    mgr = BMAManager(
        IPMIHardware(settings(binary=str(wrapper), password_dir=str(pwdir))),
        TIMING,
    )
    lab.domain.force_off()
    node = lab.node()
    mgr.validate({}, node)
    mgr.set_boot_device({}, node, "pxe")
    mgr.power_on({}, node)
    mgr.power_off({}, node)
    with pytest.raises(errors.BMCAuthFailed):
        mgr.power_on({}, lab.node(bmc_password="Wrong-" + PASSWORD[:8]))

    cmdlines = [p.read_bytes() for p in seen.iterdir()]
    assert len(cmdlines) == len(argvs) >= 6
    assert not any(PASSWORD.encode() in c for c in cmdlines)
    assert not any(PASSWORD in a for argv in argvs for a in argv)
    assert caplog.text and "ran in" in caplog.text  # the runner logged
    assert PASSWORD not in caplog.text
    assert set(modes) == {0o600}
    assert os.listdir(pwdir) == []
