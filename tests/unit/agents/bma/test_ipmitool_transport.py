"""The ipmitool interface: command lines, the password file, the reading
of ipmitool's output, and the retry policy of one request."""

import logging
import os

import pytest

from arame.agents.bma import errors
from arame.agents.bma.drivers import ipmitool_transport
from arame.agents.bma.drivers.base import BMC
from arame.agents.bma.drivers.ipmitool import IPMIHardware
from tests.helpers.clocks import FakeClock

from .conftest import PASSWORD

FAST = ipmitool_transport.Settings(attempts=3, retry_interval=0.01)


def hw(settings=FAST, **kw):
    return IPMIHardware(settings, **kw)


def test_command_line_is_a_list_with_the_password_in_a_file(ipmitool_emu, bmc):
    hw(
        ipmitool_transport.Settings(
            timeout=3,
            retries=2,
            command_timeout=9,
            cipher_suite=3,
            privilege_level="OPERATOR",
        )
    ).power.get_power_state(bmc)
    [call] = ipmitool_emu.calls
    path = call.args[call.args.index("-f") + 1]
    assert call.args == [
        "ipmitool",
        "-I",
        "lanplus",
        "-H",
        "192.0.2.10",
        "-p",
        "623",
        "-U",
        "admin",
        "-f",
        path,
        "-L",
        "OPERATOR",
        "-N",
        "3",
        "-R",
        "2",
        "-C",
        "3",
        "-v",
        "raw",
        "0x00",
        "0x01",
    ]
    assert not any(PASSWORD in a for a in call.args)
    # The file held the password, readable by its owner only, and is gone.
    assert (call.password, call.password_mode) == (PASSWORD, 0o600)
    assert not os.path.exists(path)
    assert call.timeout == 9 and call.secrets == [PASSWORD]


def test_lan_interface_takes_no_cipher_suite(ipmitool_emu):
    bmc = BMC("bm-aaaa0001", "bmc1.example", 6230, "admin", PASSWORD, "lan")
    hw(ipmitool_transport.Settings(cipher_suite=3)).power.get_power_state(bmc)
    args = ipmitool_emu.calls[0].args
    assert args[1:3] == ["-I", "lan"] and "-C" not in args


def test_password_file_is_removed_when_the_block_fails(tmp_path):
    with (
        pytest.raises(RuntimeError),
        ipmitool_transport.password_file("pw", str(tmp_path)) as path,
    ):
        with open(path) as f:
            assert f.read() == "pw"
        raise RuntimeError
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "stdout,data",
    [
        (" 01 00 00\n", b"\x01\x00\x00"),
        ("", b""),
        (
            " " + " ".join(["aa"] * 16) + "\n 01 02\n",
            b"\xaa" * 16 + b"\x01\x02",
        ),
        ("RAW RSP (3 bytes)\n 01 05 80\n", b"\x01\x05\x80"),
    ],
)
def test_response_bytes_are_read_from_stdout(stdout, data):
    assert ipmitool_transport.parse_response(stdout) == data


@pytest.mark.parametrize(
    "stderr,kind,words",
    [
        (
            (
                "> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / "
                "RMCP+ session"
            ),
            errors.BMCAuthFailed,
            "wrong password",
        ),
        (
            "> RAKP 2 message indicates an error : unauthorized name\n",
            errors.BMCAuthFailed,
            "unknown user name",
        ),
        (
            "> Error: no response from RAKP 1 message\n" * 4
            + "Set Session Privilege Level to ADMINISTRATOR failed\n",
            errors.BMCAuthFailed,
            "user name not accepted",
        ),
        (
            "Invalid user name\nError: Unable to establish LAN session\n",
            errors.BMCAuthFailed,
            "unknown user name",
        ),
        (
            (
                "Activate Session command failed\nError: Unable to establish LAN "
                "session\n"
            ),
            errors.BMCAuthFailed,
            "wrong password",
        ),
        (
            (
                "Get Auth Capabilities command failed\nError: Unable to establish "
                "LAN session\n"
            ),
            errors.BMCUnreachable,
            "Get Auth Capabilities",
        ),
        (
            (
                "Get Auth Capabilities error\nError issuing Get Channel "
                "Authentication Capabilities request\nError: Unable to establish "
                "IPMI v2 / RMCP+ session\n"
            ),
            errors.BMCUnreachable,
            "Get Auth Capabilities error",
        ),
        (
            "Error: Unable to establish LAN session\n",
            errors.BMCUnreachable,
            "Unable to establish LAN session",
        ),
        (
            "Address lookup for nowhere.example failed\n",
            errors.BMCUnreachable,
            "Address lookup",
        ),
        ("", errors.BMCUnreachable, "no output"),
        (
            (
                "Unable to send RAW command (channel=0x0 netfn=0x0 lun=0x0 cmd=0x2 "
                "rsp=0xc0): Node busy"
            ),
            errors.BMCBusy,
            "busy",
        ),
        (
            "Error: Insufficient resources for session\n",
            errors.BMCBusy,
            "resources",
        ),
    ],
)
def test_failures_are_typed_with_a_clear_message(bmc, stderr, kind, words):
    err = ipmitool_transport.failure(bmc, stderr)
    assert type(err) is kind
    assert words.lower() in str(err).lower()
    assert "bm-aaaa0001" in str(err)


def test_a_refusal_is_a_completion_code(bmc):
    assert (
        ipmitool_transport.failure(
            bmc,
            "Unable to send RAW command (channel=0x0 "
            "netfn=0x0 lun=0x0 cmd=0x30 rsp=0xc1): "
            "Invalid command",
        )
        == 0xC1
    )


def test_wrong_password_is_not_retried(ipmitool_emu, bmc):
    ipmitool_emu.password = "another"
    with pytest.raises(errors.BMCAuthFailed, match="wrong password"):
        hw().power.get_power_state(bmc)
    assert len(ipmitool_emu.calls) == 1


def test_silent_bmc_is_retried_then_unreachable(ipmitool_emu, bmc, caplog):
    ipmitool_emu.unreachable = True
    clock = FakeClock()
    settings = ipmitool_transport.Settings(
        attempts=3, retry_interval=0.05, sleep=clock.sleep
    )
    with (
        caplog.at_level(logging.WARNING),
        pytest.raises(
            errors.BMCUnreachable,
            match="did not answer.*Get Auth Capabilities",
        ),
    ):
        hw(settings).power.get_power_state(bmc)
    assert len(ipmitool_emu.calls) == 3
    # Exponential from the interval: 0.05 then 0.1, none after the last.
    assert clock.slept == pytest.approx([0.05, 0.1])
    assert "attempt 1 failed" in caplog.text
    assert PASSWORD not in caplog.text


def test_killed_ipmitool_is_unreachable(ipmitool_emu, bmc):
    ipmitool_emu.hang = True
    with pytest.raises(errors.BMCUnreachable, match="within 30s"):
        hw().power.get_power_state(bmc)
    assert len(ipmitool_emu.calls) == 3


def test_busy_bmc_is_retried_until_it_answers(ipmitool_emu, bmc):
    ipmitool_emu.busy = 2
    ipmitool_emu.power_on = True
    assert hw().power.get_power_state(bmc) == "on"
    assert len(ipmitool_emu.calls) == 3


def test_busy_for_ever_is_bmc_busy(ipmitool_emu, bmc):
    ipmitool_emu.busy = 10
    with pytest.raises(errors.BMCBusy):
        hw().power.set_power_state(bmc, "on")
    assert len(ipmitool_emu.calls) == 3


def test_missing_ipmitool_is_a_plain_bmc_error(bmc, tmp_path):
    settings = ipmitool_transport.Settings(
        binary=str(tmp_path / "no-ipmitool")
    )
    with pytest.raises(errors.BMCError, match="cannot run ipmitool") as e:
        hw(settings).power.get_power_state(bmc)
    assert type(e.value) is errors.BMCError
