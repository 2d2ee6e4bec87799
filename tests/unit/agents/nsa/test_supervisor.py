"""The supervisor with real (harmless) child processes: respawn after a
death, with backoff; stop ends the child by its pid."""

import os
import pathlib
import signal
import subprocess
import sys

import pytest

from arame.agents.nsa.supervisor import Backoff, Supervisor, end_stale


def test_backoff_doubles_up_to_the_cap():
    b = Backoff(initial=0.1, cap=1.0)
    assert [b.delay(n) for n in range(1, 7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for us.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def test_killed_child_is_respawned_then_stopped(wait_for, tmp_path):
    s = Supervisor(
        "sleeper",
        ["sleep", "60"],
        stderr_path=str(tmp_path / "err"),
        backoff=Backoff(initial=0.01, cap=0.05),
    )
    s.start()
    first = s.pid
    try:
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: s.pid not in (None, first), timeout=10)
        assert s.restarts == 1
        assert s.signal(signal.SIGCONT)
    finally:
        second = s.pid
        s.stop()
    assert s.pid is None and not _alive(second)


def test_child_dying_at_start_is_an_error(tmp_path):
    code = "import sys; sys.stderr.write('bad option'); sys.exit(3)"
    s = Supervisor(
        "bad",
        [sys.executable, "-c", code],
        stderr_path=str(tmp_path / "err"),
        ready=lambda pid: False,
    )  # like dnsmasq: not before its pidfile
    with pytest.raises(RuntimeError, match="exited 3 at start: bad option"):
        s.start()
    assert s.restarts == 0


def test_ready_check_gates_start(tmp_path):
    flag = tmp_path / "ready"
    s = Supervisor("late", ["sleep", "60"], ready=lambda pid: flag.exists())
    with pytest.raises(TimeoutError):
        s.start(ready_timeout=0.2)
    assert s.pid is None  # stopped after the failed start


def test_end_stale_only_ends_our_own_process(tmp_path, wait_for):
    pidfile = tmp_path / "x.pid"
    p = subprocess.Popen(
        [sys.executable, "-c", "import signal; signal.pause()", str(pidfile)]
    )
    try:
        # /proc/<pid>/cmdline reads empty for a moment after exec.
        cmdline = pathlib.Path(f"/proc/{p.pid}/cmdline")
        wait_for(
            lambda: str(pidfile).encode() in cmdline.read_bytes(), timeout=10
        )
        pidfile.write_text(str(p.pid))
        assert end_stale(str(pidfile), "not-in-its-command-line") is None
        assert p.poll() is None
        assert end_stale(str(pidfile), str(pidfile)) == p.pid
        p.wait(timeout=5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    pidfile.write_text("garbage")
    assert end_stale(str(pidfile), str(pidfile)) is None
