"""The one way Arame runs an external command.

An argument list (never a shell string), a timeout that kills the process,
a log line per command, and a typed error carrying the exit code and stderr.
`netns` runs the command inside a network namespace (see in_netns), which
is how an agent manages plumbing that lives in a lab namespace.

Why not oslo.concurrency's processutils.execute: on timeout it raises but
leaves the child running; subprocess.run kills it.
"""

import dataclasses
import subprocess
import time
from collections.abc import Sequence

from oslo_log import log

LOG = log.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0


class CommandError(Exception):
    """A command failed: it exited non-zero, timed out or could not start."""

    def __init__(
        self,
        args: Sequence[str],
        message: str,
        *,
        exit_code: int | None = None,
        stderr: str = "",
        stdout: str = "",
    ):
        self.cmd = list(args)
        self.exit_code = exit_code
        self.stderr = stderr
        self.stdout = stdout
        super().__init__(f"{self.cmd[0]}: {message}")


class CommandTimeout(CommandError):
    pass


@dataclasses.dataclass
class Result:
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str


def in_netns(args: Sequence[str], netns: str | None) -> list[str]:
    """`args` run inside network namespace `netns` (None: as they are).

    nsenter switches only the network namespace. `ip netns exec` also gives
    the process a mount namespace of its own, holding a copy of every mount
    of that moment: a daemon started so (dnsmasq, tgtd, libvirtd) keeps the
    ZFS datasets mounted then busy for ever, and never sees newer ones.
    """
    if not netns:
        return list(args)
    return ["nsenter", f"--net=/run/netns/{netns}", "--"] + list(args)


def _printable(args: Sequence[str], secrets: Sequence[str]) -> str:
    out = " ".join(args)
    for s in secrets:
        if s:
            out = out.replace(s, "***")
    return out


def run(
    args: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    netns: str | None = None,
    input: str | bytes | None = None,
    ok_codes: Sequence[int] = (0,),
    secrets: Sequence[str] = (),
    env: dict | None = None,
    cwd: str | None = None,
    binary: bool = False,
) -> Result:
    """Run `args`; raise CommandError unless it exits with one of ok_codes.

    `secrets` are masked wherever the command line or output is logged or
    put in an error message (keep passwords out of argv anyway: most tools
    take them from a file).
    """
    args = [str(a) for a in args]
    if not args or not args[0]:
        raise ValueError("empty command")
    args = in_netns(args, netns)
    shown = _printable(args, secrets)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            args,
            input=input,
            capture_output=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            text=not binary,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        LOG.warning("command timed out after %.1fs: %s", timeout, shown)
        raise CommandTimeout(
            args, f"timed out after {timeout:g}s", stderr=_decode(e.stderr)
        ) from e
    except OSError as e:
        raise CommandError(args, f"could not run: {e}") from e
    elapsed = time.monotonic() - t0
    LOG.debug("ran in %.3fs (exit %d): %s", elapsed, proc.returncode, shown)
    if proc.returncode not in ok_codes:
        err = _printable([_decode(proc.stderr).strip()], secrets)
        raise CommandError(
            args,
            f"exit {proc.returncode}: {err[-2000:]}",
            exit_code=proc.returncode,
            stderr=err,
            stdout=_decode(proc.stdout),
        )
    return Result(args, proc.returncode, proc.stdout, proc.stderr)


def _decode(data) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data
