"""What systemd does for the lab's daemons, in small: start a command on a
host, keep its pid in a file and its output in a log, stop it by that pid.

There is no restart on failure: the lab's tests kill agents and hosts on
purpose, and a restarting supervisor would undo the kill.
"""

import dataclasses
import os
import signal
import subprocess

from arame.common.waiting import WaitTimeout, wait_for


@dataclasses.dataclass
class Proc:
    name: str  # unique on its host: "hva", "scheduler-2", "libvirtd"
    pid: int | None
    log: str
    binary: str  # what /proc/<pid>/cmdline must name (a reused pid)

    def last_words(self, lines: int = 30) -> str:
        """The end of its log: why a daemon that died at its start did
        (said in the error, since a CI machine's logs go with it)."""
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            with open(f"/proc/{self.pid}/cmdline", "rb") as f:
                raw = f.read()
        except OSError:
            return False
        if not raw:
            # A zombie has an empty command line, and so has, for an
            # instant, a process in the middle of its exec (nsenter
            # becoming the daemon): only the first is gone.
            return _state(self.pid) not in ("Z", "X", None)
        cmd = raw.split(b"\0")
        return any(os.path.basename(p.decode()) == self.binary for p in cmd)


def _state(pid: int) -> str | None:
    """The state letter of /proc/<pid>/stat (after the command's ")")."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(b")") + 2 :][:1].decode() or None


class Supervisor:
    """The daemons of one host (run_dir holds `<name>.pid`)."""

    def __init__(
        self,
        run_dir: str,
        log_dir: str,
        prefix: list[str],
        env: dict | None = None,
    ):
        self.env = env or {}
        self.run_dir = run_dir
        self.log_dir = log_dir
        self.prefix = prefix  # the command that enters the host

    def _pidfile(self, name: str) -> str:
        return os.path.join(self.run_dir, f"{name}.pid")

    def start(self, name: str, argv: list[str], env=None) -> Proc:
        os.makedirs(self.run_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        log = os.path.join(self.log_dir, f"{name}.log")
        with open(log, "ab") as out:
            # nsenter execs the command: the pid is the daemon's.
            p = subprocess.Popen(
                self.prefix + argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=dict(os.environ, **self.env, **(env or {})),
            )
        with open(self._pidfile(name), "w") as f:
            f.write(f"{p.pid} {os.path.basename(argv[0])}\n")
        return Proc(name, p.pid, log, os.path.basename(argv[0]))

    def get(self, name: str) -> Proc:
        log = os.path.join(self.log_dir, f"{name}.log")
        try:
            with open(self._pidfile(name)) as f:
                pid, binary = f.read().split()
            return Proc(name, int(pid), log, binary)
        except (OSError, ValueError):
            return Proc(name, None, log, "")

    def names(self) -> list[str]:
        if not os.path.isdir(self.run_dir):
            return []
        return sorted(
            f[:-4] for f in os.listdir(self.run_dir) if f.endswith(".pid")
        )

    def signal(self, name: str, sig=signal.SIGTERM) -> None:
        p = self.get(name)
        if p.alive():
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, name: str, timeout: float = 30) -> None:
        """SIGTERM, then SIGKILL past the timeout (TimeoutStopSec)."""
        p = self.get(name)
        if p.alive():
            self.signal(name)
            try:
                wait_for(lambda: not p.alive(), timeout, f"{name} to exit")
            except WaitTimeout:
                self.signal(name, signal.SIGKILL)
                wait_for(lambda: not p.alive(), 10, f"{name} to die")
        try:
            os.unlink(self._pidfile(name))
        except FileNotFoundError:
            pass
