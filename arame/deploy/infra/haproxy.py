"""HAProxy in front of a Galera cluster: every connection to ONE node.

Writes go to one node at a time, as OpenStack deployments do: two writers
would certify against each other and turn ordinary row contention into
1213 deadlocks at COMMIT. The first server is active and the others are
`backup` (HAProxy uses only the first backup that is up). A stick table
keyed on nothing but the frontend makes the choice stick: when the writer
dies the traffic moves to a backup and stays there when the old writer
comes back (no second move, no two writers during a failback).

Health: an HTTP check per node against galera_check.py (Synced, not merely
accepting connections), every `inter_ms`, down after `fall` failures,
`on-marked-down shutdown-sessions` so clients of a dead or desynced node
get their connections closed at once instead of waiting on TCP; with the
defaults a dead writer is replaced in about one second.

Timeouts: client and server idle timeouts are longer than the clients'
pool recycle ([database] connection recycle, 1 h), or HAProxy would cut
pooled connections that a client believes alive.
"""

import dataclasses
import os
import signal
import socket
import subprocess

from arame.common.waiting import wait_for
from arame.deploy.infra.commands import require


@dataclasses.dataclass(frozen=True)
class Backend:
    name: str
    port: int  # the node's SQL port
    check_port: int  # its galera_check port


def render(
    listen_port: int,
    backends: list[Backend],
    stats_socket: str,
    *,
    inter_ms: int = 500,
    fall: int = 2,
    rise: int = 2,
) -> str:
    lines = [
        "global",
        "    maxconn 4000",
        f"    stats socket {stats_socket} mode 600 level admin",
        "defaults",
        "    mode tcp",
        "    timeout connect 2s",
        "    timeout client 90m",
        "    timeout server 90m",
        "    timeout check 1s",
        "    retries 1",
        "    option redispatch",
        "listen galera",
        f"    bind 127.0.0.1:{listen_port}",
        "    balance first",
        "    option httpchk",
        "    stick-table type integer size 1",
        "    stick on int(1)",
        f"    default-server inter {inter_ms} fastinter {inter_ms} "
        f"downinter {inter_ms} fall {fall} rise {rise} "
        "on-marked-down shutdown-sessions",
    ]
    for i, b in enumerate(backends):
        backup = " backup" if i else ""
        lines.append(
            f"    server {b.name} 127.0.0.1:{b.port} check "
            f"port {b.check_port}{backup}"
        )
    return "\n".join(lines) + "\n"


class HAProxy:
    """One haproxy process: its config, pid file and stats socket live in
    `base_dir`."""

    def __init__(self, base_dir: str, listen_port: int):
        self.base_dir = base_dir
        self.listen_port = listen_port
        self.config = os.path.join(base_dir, "haproxy.cfg")
        self.pidfile = os.path.join(base_dir, "haproxy.pid")
        self.stats_socket = os.path.join(base_dir, "haproxy.sock")
        self.log = os.path.join(base_dir, "haproxy.log")

    def pid(self) -> int | None:
        # A stale file from an earlier run may name a reused pid.
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().split()[0])
            with open(f"/proc/{pid}/comm") as f:
                return pid if f.read().strip() == "haproxy" else None
        except (OSError, ValueError, IndexError):
            return None

    def start(self, backends: list[Backend], timeout: float = 15) -> None:
        """Idempotent: a running haproxy of this directory is kept."""
        if self.pid() is not None:
            return
        binary = require("haproxy", "haproxy")
        os.makedirs(self.base_dir, exist_ok=True)
        with open(self.config, "w") as f:
            f.write(render(self.listen_port, backends, self.stats_socket))
        subprocess.run(
            [binary, "-c", "-q", "-f", self.config],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        with open(self.log, "ab") as log:
            subprocess.run(
                [binary, "-D", "-f", self.config, "-p", self.pidfile],
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_for(
            self._listening, timeout, f"haproxy on port {self.listen_port}"
        )

    def _listening(self) -> bool:
        try:
            socket.create_connection(
                ("127.0.0.1", self.listen_port), timeout=1
            ).close()
            return True
        except OSError:
            return False

    def stop(self, timeout: float = 10) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: self.pid() is None, timeout, "haproxy to exit")

    def command(self, line: str) -> str:
        """A line on the stats socket ("show servers state", ...)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(self.stats_socket)
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers_up(self) -> dict[str, bool]:
        """Each server's health as HAProxy sees it."""
        out: dict[str, bool] = {}
        for line in self.command("show stat").splitlines():
            fields = line.split(",")
            if line.startswith("#") or len(fields) < 18:
                continue
            if fields[1] in ("FRONTEND", "BACKEND"):
                continue
            out[fields[1]] = fields[17].startswith("UP")
        return out
