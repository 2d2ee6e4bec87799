"""Faults: SIGKILL one of a deployment's daemons, the RabbitMQ broker or
MariaDB, and bring it back as its supervisor would.

Each fault is recorded in a Faults log (what, when killed, when back) so a
test can measure recovery from the last one. Every wait has a deadline.
"""

import dataclasses
import os
import re
import signal
import time

import httpx

from tests.helpers.waiting import wait_until

RESTART_PATIENCE = 60  # a daemon's start
BROKER_PATIENCE = 120  # RabbitMQ boots slowly on a loaded 2-core machine
DATABASE_PATIENCE = 120  # InnoDB's crash recovery included


@dataclasses.dataclass
class Fault:
    what: str
    killed_at: float  # time.monotonic()
    back_at: float | None = None

    def __str__(self):
        took = (
            f"back after {self.back_at - self.killed_at:.1f} s"
            if self.back_at
            else "not back"
        )
        return f"{self.what}: {took}"


class Faults:
    """What was done to a deployment, in order."""

    def __init__(self):
        self.log: list[Fault] = []

    def begin(self, what: str) -> Fault:
        f = Fault(what, time.monotonic())
        self.log.append(f)
        return f

    @property
    def last_killed_at(self) -> float:
        return max(f.killed_at for f in self.log)

    @property
    def last_back_at(self) -> float:
        """When the last fault ended (its victim answering again)."""
        return max((f.back_at or f.killed_at) for f in self.log)

    def __str__(self):
        return "; ".join(str(f) for f in self.log) or "no fault"


def _argv(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace").split("\0")
    except OSError:
        return []


def _listening(port: int) -> list[int]:
    """PIDs holding a socket that listens on TCP `port` (any address):
    the server a deployment's URL names, whichever else runs beside it."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                local, state, inode = cols[1], cols[3], cols[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{inode}]")
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                    pids.append(int(entry))
                    break
            except OSError:
                continue
    return pids


def _server(port: int, binaries: tuple[str, ...], what: str) -> int:
    pids = [
        p
        for p in _listening(port)
        if os.path.basename(_argv(p)[0]) in binaries
    ]
    assert len(pids) == 1, (
        f"expected one {what} listening on port {port}, found pids {pids}"
    )
    return pids[0]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            # A zombie has exited: its parent has yet to reap it.
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _sigkill(pid: int, what: str) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    wait_until(lambda: _gone(pid), 30, f"{what} (pid {pid}) to die")


# -- the deployment's daemons -------------------------------------------------
def kill_and_restart(dep, name: str, faults: Faults, note: str = "") -> Fault:
    """SIGKILL daemon `name`, start it again with its options, and wait
    until it serves: the API its health check, any other daemon its
    components started. `note`: what it was doing."""
    fault = faults.begin(f"SIGKILL {name}" + (f" ({note})" if note else ""))
    dep.stop(name, sig=signal.SIGKILL, timeout=10)
    dep.restart(name)
    wait_back(dep, name)
    fault.back_at = time.monotonic()
    return fault


def wait_back(dep, name: str) -> None:
    role, _ = dep.started[name]
    if role == "api":
        wait_until(
            lambda: _healthy(dep),
            RESTART_PATIENCE,
            f"{name} to answer its health check again",
        )
        return
    # Not a heartbeat: the collector stamps one with the time it records
    # it, and the dead process's last one may be recorded after the kill.
    d = dep.daemons[name]
    started = re.compile(
        rf"^\S+ \S+ {d.pid} INFO \S+ \S+ {re.escape(d.binary)}: started$",
        re.M,
    )

    def up():
        if not d.alive():
            raise AssertionError(f"{name} exited after its restart")
        with open(d.log_path, errors="replace") as f:
            return started.search(f.read()) is not None

    wait_until(up, RESTART_PATIENCE, f"{name} (pid {d.pid}) to start")


def _healthy(dep) -> bool:
    try:
        return httpx.get(f"{dep.api_url}/healthz", timeout=2).is_success
    except httpx.HTTPError:
        return False


def wait_work_in_flight(
    dep, step: str | None = None, owner: str | None = None, timeout=30
) -> int:
    """A task running (at `step`, if given; run by scheduler `owner`, if
    given and tasks record their owner): the kill that follows lands on
    work, not on an idle daemon. -> how many there were."""
    query = "SELECT COUNT(*) FROM tasks WHERE status = 'running'"
    if step:
        query += " AND step = :step"
    if owner and dep.rows("SHOW COLUMNS FROM tasks LIKE 'owner'"):
        # leases.make_owner(): "<host>:<pid>:<random>"
        query += " AND owner LIKE :owner"
    return wait_until(
        lambda: dep.rows(query, step=step, owner=f"{owner}:%")[0][0],
        timeout,
        "a task running"
        + (f" at step {step}" if step else "")
        + (f" in {owner}" if owner else ""),
        interval=0.2,
        ignore=(Exception,),
    )


# -- the broker ---------------------------------------------------------------
def kill_broker(rabbit, faults: Faults) -> Fault:
    """SIGKILL the RabbitMQ node (its beam.smp, not a polite stop_app),
    then start it as the infrastructure does and wait for it to accept
    connections."""
    pid = _server(rabbit.port, ("beam.smp",), "RabbitMQ node")
    fault = faults.begin(f"SIGKILL RabbitMQ (beam.smp {pid})")
    _sigkill(pid, "RabbitMQ")
    wait_until(lambda: not rabbit.running(), 30, "RabbitMQ's port to close")
    # Whoever starts it (this, or another run's ensure_running), it is
    # the same node on the same data directory.
    rabbit.ensure_running(timeout=BROKER_PATIENCE)
    fault.back_at = time.monotonic()
    return fault


# -- the database -------------------------------------------------------------
def _is_mysqld_safe(pid: int | None) -> bool:
    return pid is not None and any("mysqld_safe" in a for a in _argv(pid))


def kill_database(mariadb, faults: Faults) -> Fault:
    """SIGKILL mariadbd and wait until MariaDB accepts connections again:
    mysqld_safe restarts a server that died (as infra starts it); one
    without it is started the way infra does."""
    pid = _server(mariadb.port, ("mariadbd", "mysqld"), "MariaDB server")
    supervised = _is_mysqld_safe(_parent(pid))
    fault = faults.begin(f"SIGKILL mariadbd ({pid})")
    _sigkill(pid, "mariadbd")
    if supervised:
        wait_until(
            mariadb.running,
            DATABASE_PATIENCE,
            "mysqld_safe to restart MariaDB",
            interval=0.5,
        )
    else:
        mariadb.ensure_running(timeout=DATABASE_PATIENCE)
    fault.back_at = time.monotonic()
    return fault
