"""The Nova peer's life: install, up, down (through
bench/peers/nova/nova-peer.sh), and the processes whose CPU is Nova's."""

import os
import subprocess

from .run import log

HARNESS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "peers",
    "nova",
)
SCRIPT = os.path.join(HARNESS, "nova-peer.sh")
DEFAULT_DIR = "/var/tmp/arame-nova-peer"
API_URL = "http://127.0.0.1:18774/v2.1"
VERSIONS = {"nova": "31.3.1", "openstack-placement": "13.0.0"}


class PeerError(Exception):
    pass


class NovaPeer:
    def __init__(self, peer_dir: str, computes: int):
        self.dir = os.path.abspath(peer_dir)
        self.computes = computes
        self.run_dir = os.path.join(self.dir, "run")
        self.log_path = os.path.join(self.dir, "bench-peer.log")

    def _script(self, action: str, timeout: float) -> None:
        """nova-peer.sh <action>, its output appended to bench-peer.log (a
        failure quotes its tail)."""
        os.makedirs(self.dir, exist_ok=True)
        env = dict(
            os.environ,
            PEER_DIR=self.dir,
            NCOMPUTE=str(self.computes),
            OSLO_RPC_FIX="1",
        )
        with open(self.log_path, "a") as out:
            try:
                rc = subprocess.run(
                    [SCRIPT, action],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    timeout=max(1.0, timeout),
                ).returncode
            except subprocess.TimeoutExpired as e:
                raise PeerError(
                    f"nova-peer.sh {action}: no end after {timeout:.0f} s "
                    f"(log {self.log_path})"
                ) from e
        if rc != 0:
            raise PeerError(
                f"nova-peer.sh {action} exited {rc}: {self._tail()}"
            )

    def _tail(self, n: int = 6) -> str:
        try:
            with open(self.log_path) as f:
                return " | ".join(f.read().splitlines()[-n:])
        except OSError:
            return f"(no log at {self.log_path})"

    def installed(self) -> bool:
        return os.access(os.path.join(self.dir, "venv/bin/nova-api"), os.X_OK)

    def install(self, timeout: float) -> None:
        """The venv (pip, pinned by OpenStack's 2025.1 constraints); a no-op
        once it holds the right versions."""
        if not self.installed():
            log(
                f"installing Nova {VERSIONS['nova']} and Placement "
                f"{VERSIONS['openstack-placement']} into {self.dir}/venv "
                "(first use: a few minutes) ..."
            )
        self._script("install", timeout)

    def up(self, timeout: float) -> None:
        self._script("up", timeout)

    def down(self, timeout: float = 120) -> None:
        """Stops only the PIDs the script recorded; drops its databases,
        vhost and user. Safe when nothing is up."""
        self._script("down", timeout)

    def processes(self) -> dict[int, str]:
        """{pid: group} of every process in the trees rooted at the PIDs
        nova-peer.sh recorded (gunicorn and nova-api fork their workers,
        conductor and scheduler theirs): 'nova-compute (N)' for the
        computes together, 'stubs' for Neutron and Glance, else the
        service's name."""
        roots = {}
        for fn in sorted(os.listdir(self.run_dir)):
            if not fn.endswith(".pid"):
                continue
            name = fn[:-4]
            with open(os.path.join(self.run_dir, fn)) as f:
                roots[int(f.read().strip())] = group_of(name, self.computes)
        children = child_table()
        out = {}
        for root, group in roots.items():
            todo = [root]
            while todo:
                pid = todo.pop()
                out[pid] = group
                todo.extend(children.get(pid, []))
        return out


def group_of(name: str, computes: int) -> str:
    if name.startswith("peer-cmp-"):
        return f"nova-compute (x{computes})"
    if name.startswith("stub-"):
        return "stubs (neutron, glance)"
    return name


def child_table() -> dict[int, list[int]]:
    """{ppid: [pid, ...]} of every process now."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids
