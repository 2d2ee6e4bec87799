"""Keep one long-running process alive: respawn it when it dies, with a
growing delay, until told to stop.

The child runs in the foreground (dnsmasq --keep-in-foreground), so a
thread blocked in wait() learns of its death at once; no polling of
pidfiles. A process left by an earlier agent (found through its pidfile)
is ended first, since it holds the sockets the new one needs.

runner.run() waits for its command to end; a daemon needs Popen. This is
the one place nsa starts a process that way: same argument list, same
nsenter prefix (runner.in_netns), a log line per start.
"""

import contextlib
import dataclasses
import os
import signal
import subprocess
import threading
import time

from oslo_log import log

from arame.common import runner, waiting

LOG = log.getLogger(__name__)


@dataclasses.dataclass
class Backoff:
    """Delay before respawn n: initial * 2**n up to cap; a process that
    lived `healthy_after` seconds resets the count."""

    initial: float = 0.1
    cap: float = 30.0
    healthy_after: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.cap, self.initial * (2 ** max(0, failures - 1)))


def _alive(pid: int) -> bool:
    """Running (a zombie has ended: only its parent's wait() is missing)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def end_stale(pidfile: str, marker: str, timeout: float = 5.0) -> int | None:
    """End the process named in `pidfile` if it is still ours: its command
    line contains `marker` (the pidfile path itself, for dnsmasq). Returns
    the pid ended, or None."""
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip() or 0)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return None
    if pid <= 1 or marker not in cmdline:
        return None
    LOG.info("ending process %d left by an earlier run (%s)", pid, pidfile)
    os.kill(pid, signal.SIGTERM)
    try:
        waiting.wait_for(
            lambda: not _alive(pid),
            timeout,
            f"process {pid} to end",
            interval=0.02,
        )
    except waiting.WaitTimeout:
        os.kill(pid, signal.SIGKILL)
    return pid


class Supervisor:
    """`start()` spawns `args` (in `netns`) and watches it; `ready(pid)`
    says when a fresh process may be signalled (dnsmasq: once it wrote its
    pidfile, so its handlers are installed)."""

    def __init__(
        self,
        name: str,
        args: list[str],
        *,
        netns: str | None = None,
        stderr_path: str | None = None,
        ready=None,
        backoff: Backoff | None = None,
        on_exit=None,
    ):
        self.name = name
        self.args = [str(a) for a in args]
        self.netns = netns
        self.stderr_path = stderr_path
        self._ready_check = ready or (lambda pid: True)
        self.backoff = backoff or Backoff()
        self.on_exit = on_exit
        self.restarts = 0
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        p = self._proc
        return p.pid if p is not None and p.poll() is None else None

    def _spawn(self) -> subprocess.Popen:
        cmd = runner.in_netns(self.args, self.netns)
        LOG.info("%s: starting %s", self.name, " ".join(cmd))
        with contextlib.ExitStack() as stack:
            stderr = (
                stack.enter_context(open(self.stderr_path, "ab"))
                if self.stderr_path
                else subprocess.DEVNULL
            )
            # nsenter execs the command: the child's pid is dnsmasq's.
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )

    def start(self, ready_timeout: float = 10.0) -> None:
        """Spawn and wait until the process is ready; raise if it dies or
        is not ready in time (it is then stopped)."""
        self._stop.clear()
        with self._lock:
            self._proc = self._spawn()
        try:
            self.wait_ready(ready_timeout)
        except Exception:
            self.stop()
            raise
        self._thread = threading.Thread(
            target=self._watch, daemon=True, name=f"watch-{self.name}"
        )
        self._thread.start()

    def wait_ready(self, timeout: float) -> int:
        """The pid once ready; RuntimeError if it exits or we stop,
        WaitTimeout (a TimeoutError) past `timeout`."""

        def ready() -> int | None:
            proc = self._proc
            if proc is None or self._stop.is_set():
                raise RuntimeError(f"{self.name}: stopped")
            code = proc.poll()
            if code is not None and proc is self._proc:
                raise RuntimeError(
                    f"{self.name}: exited {code} at start: "
                    f"{self.stderr_tail()}"
                )
            if code is None and self._ready_check(proc.pid):
                return proc.pid
            return None

        # stop() wakes the wait at once.
        return waiting.wait_for(
            ready,
            timeout,
            f"{self.name} to be ready",
            interval=0.005,
            sleep=self._stop.wait,
        )

    def stderr_tail(self, limit: int = 2000) -> str:
        if not self.stderr_path:
            return ""
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - limit))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _watch(self) -> None:
        failures = 0
        while not self._stop.is_set():
            proc = self._proc
            started = time.monotonic()
            code = proc.wait() if proc is not None else None
            if self._stop.is_set():
                return
            lived = time.monotonic() - started
            failures = (
                1 if lived >= self.backoff.healthy_after else failures + 1
            )
            delay = self.backoff.delay(failures)
            LOG.warning(
                "%s: pid %s exited %s after %.1f s; respawn in %.1f s: %s",
                self.name,
                proc and proc.pid,
                code,
                lived,
                delay,
                self.stderr_tail(300),
            )
            if self.on_exit is not None:
                self.on_exit(code)
            if self._stop.wait(delay):
                return
            with self._lock:
                if self._stop.is_set():
                    return
                try:
                    self._proc = self._spawn()
                except OSError:
                    LOG.exception("%s: could not respawn", self.name)
                    self._proc = None  # counted as a death: backoff grows
                    continue
                self.restarts += 1

    def signal(self, sig: int, ready_timeout: float = 10.0) -> bool:
        """Send `sig` once the current process is ready; False if none runs
        (a respawn reads everything anyway)."""
        try:
            pid = self.wait_ready(ready_timeout)
        except (RuntimeError, TimeoutError) as e:
            LOG.warning("%s: not signalled: %s", self.name, e)
            return False
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return False
        return True

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if (
            self._thread is not None
            and self._thread is not threading.current_thread()
        ):
            self._thread.join(timeout)
        self._thread = None
