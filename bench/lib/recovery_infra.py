"""The recovery bench's own RabbitMQ and MariaDB, and their SIGKILLs.

The bench kills the broker and the database. The machine's are shared
with other people's test runs, whose work the kill would break, so by
default the bench runs a node of each of its own (own ports, data under
/tmp) and kills those: a SIGKILL of their beam.smp or mariadbd, brought
back as the machine's are (the broker started again as infra starts it,
MariaDB restarted by its mysqld_safe). With --shared-infra it kills the
machine's instead, through the chaos suite's faults.kill_broker and
kill_database.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

from arame.common import waiting
from arame.deploy import infra
from tests.chaos import faults

from .broker import PrivateRabbitMQ
from .ports import free_port

MY_CNF = """\
[mysqld]
user = mysql
datadir = {dir}/data
socket = {dir}/mysqld.sock
pid-file = {dir}/mysqld.pid
log-error = {dir}/error.log
port = {port}
bind-address = 127.0.0.1
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci

[mysqld_safe]
socket = {dir}/mysqld.sock
pid-file = {dir}/mysqld.pid
log-error = {dir}/error.log
"""


class PrivateMariaDB(infra.MariaDB):
    """A mariadbd of the bench's own under its own mysqld_safe (which
    restarts a server that dies, as the machine's does): a free TCP port
    on 127.0.0.1, its socket and data in a directory under /tmp. Root
    logs in over the socket (unix_socket authentication), as on the
    machine's."""

    def __init__(self, name: str):
        self.dir = tempfile.mkdtemp(
            prefix=f"arame-{name}-mariadb-", dir="/tmp"
        )
        super().__init__(
            port=free_port(), socket_path=os.path.join(self.dir, "mysqld.sock")
        )
        self.cnf = os.path.join(self.dir, "my.cnf")
        self.proc: subprocess.Popen | None = None

    def _initialise(self) -> None:
        with open(self.cnf, "w") as f:
            f.write(MY_CNF.format(dir=self.dir, port=self.port))
        mysql = pwd.getpwnam("mysql")
        os.chown(self.dir, mysql.pw_uid, mysql.pw_gid)
        infra.run(
            [
                shutil.which("mariadb-install-db") or "mariadb-install-db",
                f"--defaults-file={self.cnf}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            timeout=300,
        )

    def ensure_running(
        self, log_path: str | None = None, timeout: float = 120
    ) -> bool:
        if self.running():
            return False
        if not os.path.isdir(os.path.join(self.dir, "data", "mysql")):
            self._initialise()
        if self.proc is None or self.proc.poll() is not None:
            with open(os.path.join(self.dir, "mysqld_safe.log"), "ab") as out:
                self.proc = subprocess.Popen(
                    [
                        shutil.which("mysqld_safe") or "mysqld_safe",
                        f"--defaults-file={self.cnf}",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.dir,
                    start_new_session=True,
                )
        waiting.wait_for(
            self.running, timeout, f"MariaDB in {self.dir}", interval=0.5
        )
        return True

    def server_pid(self) -> int | None:
        try:
            with open(os.path.join(self.dir, "mysqld.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # mysqld_safe ends once its server shut down cleanly.
            infra.run(
                [
                    shutil.which("mariadb-admin") or "mariadb-admin",
                    f"--socket={self.socket_path}",
                    "shutdown",
                ],
                timeout=120,
                check=False,
            )
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            try:  # our own session only
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def _sigkill(pid: int, what: str, timeout: float = 30) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    waiting.wait_for(
        lambda: (
            not os.path.exists(f"/proc/{pid}") or _state(pid) in ("Z", None)
        ),
        timeout,
        f"{what} (pid {pid}) to die",
        interval=0.1,
    )


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def kill_broker(rabbit, log: faults.Faults) -> faults.Fault:
    """faults.kill_broker, on the bench's own node when it has one."""
    if not isinstance(rabbit, PrivateRabbitMQ):
        return faults.kill_broker(rabbit, log)
    pid = rabbit.beam_pid()
    if pid is None:
        raise infra.InfraError(f"no pid for RabbitMQ node {rabbit.node}")
    fault = log.begin(f"SIGKILL RabbitMQ (beam.smp {pid})")
    _sigkill(pid, "RabbitMQ")
    waiting.wait_for(
        lambda: (
            not rabbit.running()
            and (rabbit.proc is None or rabbit.proc.poll() is not None)
        ),
        30,
        "RabbitMQ's port to close and its server script to end",
    )
    rabbit.ensure_running(timeout=faults.BROKER_PATIENCE)
    fault.back_at = time.monotonic()
    return fault


def kill_database(mariadb, log: faults.Faults) -> faults.Fault:
    """faults.kill_database, on the bench's own server when it has one:
    its mysqld_safe starts it again."""
    if not isinstance(mariadb, PrivateMariaDB):
        return faults.kill_database(mariadb, log)
    pid = mariadb.server_pid()
    if pid is None:
        raise infra.InfraError(f"no pid for MariaDB in {mariadb.dir}")
    fault = log.begin(f"SIGKILL mariadbd ({pid})")
    _sigkill(pid, "mariadbd")
    waiting.wait_for(
        mariadb.running,
        faults.DATABASE_PATIENCE,
        "mysqld_safe to restart MariaDB",
        interval=0.5,
    )
    fault.back_at = time.monotonic()
    return fault
