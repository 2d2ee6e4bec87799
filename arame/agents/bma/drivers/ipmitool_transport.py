"""A python-ipmi interface that sends each request with `ipmitool raw`,
run by arame.common.runner.

Why this split: ipmitool does what python-ipmi cannot, the RMCP+ session
(IPMI 2.0 `lanplus`: RAKP authentication, integrity, encryption) and the
IPMI 1.5 `lan` one with the same code; python-ipmi does what ipmitool's
subcommands hide, the encoding and decoding of the requests (chassis
control, chassis status, boot options) and their completion codes. So a
boot device is written as the exact boot-flags bytes we mean, and a
refusal comes back as a completion code rather than a sentence to guess
at. python-ipmi's own `ipmitool` interface is not used: it builds a shell
string holding the password and logs it.

Here: the argument list (password from a 0600 file, `-f`, never in argv
or a log), the timeouts (ipmitool's own per packet, the runner's for the
whole run), the retries of one request (tenacity, only while the BMC does
not answer or is busy: never after a refused password, BMCs lock accounts
out), and the reading of ipmitool's output into typed errors.
"""

import contextlib
import dataclasses
import os
import re
import tempfile
import time
from collections.abc import Callable

import pyipmi
import tenacity
from oslo_log import log
from pyipmi.interfaces.base import Interface

from arame.agents.bma import errors
from arame.agents.bma.drivers.base import BMC
from arame.common import runner

LOG = log.getLogger(__name__)

CC_NODE_BUSY = 0xC0
CC_TIMEOUT = 0xC3
_RETRYABLE_CC = (CC_NODE_BUSY, CC_TIMEOUT)

# What ipmitool (1.8.19, -v) writes on stderr (compared in lower case).
# Auth comes before reachability: a refused login also ends in "Unable to
# establish ... session", as does a BMC that never answered.
_AUTH = (
    ("RAKP 2 HMAC is invalid", "wrong password"),
    ("RAKP 4 HMAC is invalid", "wrong password"),
    ("unauthorized name", "unknown user name"),
    ("invalid user name", "unknown user name"),
    # virtualbmc (pyghmi) and some BMCs drop RAKP 1 of an unknown user;
    # the BMC answered the messages before it, so it is reachable.
    ("no response from RAKP 1 message", "user name not accepted"),
    ("password is longer than", "password too long for this interface"),
    # IPMI 1.5 (lan): OpenIPMI's ipmi_sim ignores a wrong password's
    # Activate Session after answering the challenge.
    ("Activate Session command failed", "wrong password"),
    ("Activate Session error", "login refused"),
    ("Get Session Challenge command failed", "login refused"),
    ("Authentication type NONE not supported", "login refused"),
    ("insufficient privilege", "privilege level refused"),
    ("Requested privilege level exceeds", "privilege level refused"),
)
_BUSY = ("insufficient resources for session", "node busy")
_RAW_CC = re.compile(r"Unable to send RAW command \(.*rsp=(0x[0-9a-fA-F]+)\)")
_HEX_BYTE = re.compile(r"[0-9a-fA-F]{2}")


@dataclasses.dataclass(frozen=True)
class Settings:
    binary: str = "ipmitool"
    timeout: int = 2  # ipmitool -N: per packet
    retries: int = 1  # ipmitool -R: per packet
    command_timeout: float = 30.0  # the runner kills ipmitool after this
    cipher_suite: int | None = None
    privilege_level: str = "ADMINISTRATOR"
    password_dir: str | None = None
    attempts: int = 3  # ours: whole requests
    retry_interval: float = 1.0
    # What passes the time between attempts (a test's fake clock).
    sleep: Callable[[float], None] = dataclasses.field(
        default=time.sleep, compare=False, repr=False
    )

    @classmethod
    def from_config(cls, conf) -> "Settings":
        c = conf.bma
        return cls(
            binary=c.ipmitool_binary,
            timeout=c.ipmitool_timeout,
            retries=c.ipmitool_retries,
            command_timeout=c.command_timeout,
            cipher_suite=c.cipher_suite,
            privilege_level=c.privilege_level,
            password_dir=c.password_dir,
            attempts=c.call_attempts,
            retry_interval=c.call_retry_interval,
        )


@contextlib.contextmanager
def password_file(password: str, directory: str | None = None):
    """A file only its owner reads (mkstemp: 0600) holding `password`,
    removed when the block ends, whatever happens in it."""
    fd, path = tempfile.mkstemp(prefix="arame-bma-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(password)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def command(bmc: BMC, settings: Settings, password_path: str) -> list[str]:
    """ipmitool's options for one BMC, up to (not including) the
    subcommand."""
    args = [
        settings.binary,
        "-I",
        bmc.interface,
        "-H",
        bmc.address,
        "-p",
        str(bmc.port),
        "-U",
        bmc.username,
        "-f",
        password_path,
        "-L",
        settings.privilege_level,
        "-N",
        str(settings.timeout),
        "-R",
        str(settings.retries),
    ]
    if bmc.interface == "lanplus" and settings.cipher_suite is not None:
        args += ["-C", str(settings.cipher_suite)]
    # -v: the reason of a refused login ("RAKP 2 HMAC is invalid") is only
    # written in verbose mode; the response bytes stay alone on stdout.
    return args + ["-v"]


def raw_args(lun: int, netfn: int, raw_bytes: bytes) -> list[str]:
    args = ["-l", str(lun)] if lun else []
    return args + ["raw", f"0x{netfn:02x}"] + [f"0x{b:02x}" for b in raw_bytes]


def parse_response(stdout: str) -> bytes:
    """The response bytes `ipmitool raw` prints (hex, 16 a line)."""
    data = []
    for line in stdout.splitlines():
        tokens = line.split()
        if tokens and all(_HEX_BYTE.fullmatch(t) for t in tokens):
            data.extend(int(t, 16) for t in tokens)
    return bytes(data)


def failure(bmc: BMC, stderr: str) -> errors.BMCError | int:
    """What a failed ipmitool run means: a typed error, or the completion
    code the BMC answered (python-ipmi turns it into its own error)."""
    text = stderr.lower()
    for marker, reason in _AUTH:
        if marker.lower() in text:
            return errors.BMCAuthFailed(
                f"BMC of {bmc} refused user {bmc.username!r}: {reason} "
                f"(ipmitool: {marker})"
            )
    for marker in _BUSY:
        if marker.lower() in text:
            return errors.BMCBusy(f"BMC of {bmc} is busy ({marker})")
    m = _RAW_CC.search(stderr)
    if m:
        cc = int(m.group(1), 16)
        if cc in _RETRYABLE_CC:
            return errors.BMCBusy(
                f"BMC of {bmc} is busy (completion code {cc:#04x})"
            )
        return cc
    return errors.BMCUnreachable(
        f"BMC of {bmc} did not answer (ipmitool: {_first_error(stderr)})"
    )


def _first_error(stderr: str) -> str:
    lines = [x.strip() for x in stderr.splitlines() if x.strip()]
    for line in lines:
        if any(w in line.lower() for w in ("error", "failed", "no response")):
            return line
    return lines[-1] if lines else "no output"


def _log_retry(state: tenacity.RetryCallState) -> None:
    LOG.warning(
        "IPMI request to %s, attempt %d failed, retrying in %.1fs: %s",
        state.fn.__self__.bmc,
        state.attempt_number,
        state.next_action.sleep,
        state.outcome.exception(),
    )


class RunnerIpmitool(Interface):
    """python-ipmi interface for one BMC, valid while its password file
    exists (see connect())."""

    NAME = "arame-ipmitool"

    def __init__(self, bmc: BMC, settings: Settings, password_path: str):
        self.bmc = bmc
        self.settings = settings
        self.password_path = password_path
        self.runs = 0  # ipmitool runs, retries included

    def is_target_accessible(self, target) -> bool:
        return True  # every request says it: a failed one raises

    def send_and_receive_raw(
        self, target, lun: int, netfn: int, raw_bytes: bytes
    ) -> bytes:
        """The response, completion code first. Retries are declared here,
        at the only place that talks to the BMC."""
        s = self.settings
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(
                (errors.BMCUnreachable, errors.BMCBusy)
            ),
            stop=tenacity.stop_after_attempt(s.attempts),
            wait=tenacity.wait_exponential(
                multiplier=s.retry_interval, min=s.retry_interval, max=30
            ),
            sleep=s.sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        return retrying(self._run_once, lun, netfn, raw_bytes)

    def _run_once(self, lun: int, netfn: int, raw_bytes: bytes) -> bytes:
        args = command(self.bmc, self.settings, self.password_path) + raw_args(
            lun, netfn, raw_bytes
        )
        self.runs += 1
        try:
            result = runner.run(
                args,
                timeout=self.settings.command_timeout,
                secrets=[self.bmc.password],
            )
        except runner.CommandTimeout:
            raise errors.BMCUnreachable(
                f"BMC of {self.bmc} did not answer within "
                f"{self.settings.command_timeout:g}s"
            ) from None
        except runner.CommandError as e:
            if e.exit_code is None:  # ipmitool missing or not executable
                raise errors.BMCError(f"cannot run ipmitool: {e}") from None
            why = failure(self.bmc, e.stderr)
            if isinstance(why, Exception):
                raise why from None
            return bytes([why])
        return bytes([0]) + parse_response(result.stdout)


@contextlib.contextmanager
def connect(bmc: BMC, settings: Settings):
    """A python-ipmi connection to `bmc` for the length of the block (each
    request one ipmitool run; the password file lives as long as it)."""
    with password_file(bmc.password, settings.password_dir) as path:
        yield pyipmi.Ipmi(interface=RunnerIpmitool(bmc, settings, path))
