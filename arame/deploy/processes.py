"""Arame daemons as child processes: start with a config, a log and a
pidfile; stop by PID (only processes we started), SIGTERM first."""

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys

from arame.common.waiting import WaitTimeout, wait_for


@dataclasses.dataclass
class Daemon:
    name: str  # unique in the deployment: "api", "hva-2", ...
    binary: str  # console script: "arame-api"
    pid: int
    log_path: str
    pidfile: str
    popen: subprocess.Popen | None = None

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return pid_is(self.pid, self.binary)


def pid_is(pid: int, binary: str) -> bool:
    """True if `pid` runs `binary` (guards against a reused PID)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().split(b"\0")
    except OSError:
        return False
    return any(
        os.path.basename(p.decode(errors="replace")) == binary for p in cmd[:3]
    )


def binary_path(binary: str) -> str:
    """The console script next to this interpreter (venv-safe)."""
    candidate = os.path.join(os.path.dirname(sys.executable), binary)
    return candidate if os.path.exists(candidate) else binary


def start(
    name: str,
    binary: str,
    config_files: list[str],
    run_dir: str,
    log_dir: str,
    env: dict | None = None,
) -> Daemon:
    os.makedirs(run_dir, exist_ok=True)
    os.makedirs(log_dir, exist_ok=True)
    log_path = os.path.join(log_dir, f"{name}.log")
    args = [binary_path(binary)]
    for c in config_files:
        args += ["--config-file", c]
    full_env = dict(os.environ)
    full_env.update(env or {})
    with open(log_path, "ab") as log:
        p = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            start_new_session=True,
        )
    pidfile = os.path.join(run_dir, f"{name}.pid")
    with open(pidfile, "w") as f:
        f.write(str(p.pid))
    return Daemon(name, binary, p.pid, log_path, pidfile, p)


def send_signal(d: Daemon, sig=signal.SIGTERM) -> None:
    if d.alive():
        try:
            os.kill(d.pid, sig)
        except ProcessLookupError:
            pass


def stop(d: Daemon, timeout: float = 30, sig=signal.SIGTERM) -> int | None:
    """Signal and wait; SIGKILL past the timeout. Returns the exit code if
    known."""
    if d.alive():
        try:
            os.kill(d.pid, sig)
        except ProcessLookupError:
            pass
        try:
            wait_for(
                lambda: not d.alive(),
                timeout,
                f"{d.name} to exit",
                interval=0.05,
            )
        except WaitTimeout:
            try:
                os.kill(d.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            with contextlib.suppress(WaitTimeout):
                wait_for(
                    lambda: not d.alive(),
                    10,
                    f"{d.name} to exit after SIGKILL",
                    interval=0.05,
                )
    code = d.popen.wait(timeout=5) if d.popen is not None else None
    try:
        os.unlink(d.pidfile)
    except FileNotFoundError:
        pass
    return code


def from_pidfile(
    name: str, binary: str, run_dir: str, log_dir: str
) -> Daemon | None:
    pidfile = os.path.join(run_dir, f"{name}.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return Daemon(
        name, binary, pid, os.path.join(log_dir, f"{name}.log"), pidfile
    )
