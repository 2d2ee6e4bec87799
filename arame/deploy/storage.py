"""zfs-fuse, a pool and a private tgtd: what a storage node runs, started
for the single-host deployment, the functional and integration tests and
bench/storage.py.

- zfs-fuse: one per machine. Use the running one; otherwise start one in
  the foreground under our own process handle (its pid and output are
  ours) and stop it at the end only if we started it and no pool is left
  in it.
- the pool: a sparse file, `cachefile=none` (or the next daemon start
  re-imports a dead pool), destroyed at the end.
- tgtd: always our own, on its own management channel (`-C <n>`) and a
  loopback portal (3260 if free, else a free port), so nothing else's
  targets are touched; or inside a network namespace (the lab's, where
  qemu's initiators are) on an address there. It ignores SIGTERM: stopped
  with tgtadm.
"""

import contextlib
import os
import random
import socket
import subprocess

from arame.common import runner
from arame.common.waiting import WaitTimeout, wait_for


def _ok(*args, timeout: float = 30) -> bool:
    try:
        runner.run(list(args), timeout=timeout)
        return True
    except runner.CommandError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of ours counts as gone.
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ", 1)[1][0] != "Z"
    return False


class ZfsFuse:
    def __init__(self, rundir: str):
        self.rundir = rundir
        self.logfile = os.path.join(rundir, "zfs-fuse.log")
        self.proc: subprocess.Popen | None = (
            None  # set only when we started it
        )

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @staticmethod
    def running() -> bool:
        return _ok("zpool", "list", "-H", "-o", "name")

    def ensure(self, timeout: float = 60) -> None:
        if self.running():
            return
        # One that is still starting or still exiting holds the lock: a
        # second one would exit at once.
        wait_for(
            lambda: self.running() or not _zfs_fuse_pids(),
            timeout,
            "the zfs-fuse already running to answer or exit",
        )
        if self.running():
            return
        # In the foreground under our own handle: when it daemonizes itself,
        # the parent exits 0 before the daemon can fail (an unwritable
        # pidfile kills it after the socket exists: "Connection refused"),
        # and its reason is lost.
        os.makedirs(self.rundir, exist_ok=True)
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(
                ["zfs-fuse", "--no-daemon", "-a", "0", "-e", "0"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd="/",
                start_new_session=True,
            )
        wait_for(
            lambda: self.proc.poll() is not None or self.running(),
            timeout,
            "zfs-fuse answering",
        )
        if self.proc.poll() is not None:
            code, self.proc = self.proc.returncode, None
            with open(self.logfile, errors="replace") as f:
                tail = f.read()[-2000:]
            raise AssertionError(f"zfs-fuse exited {code}: {tail}")

    @staticmethod
    def pools() -> list[str]:
        return runner.run(["zpool", "list", "-H", "-o", "name"]).stdout.split()

    def stop_if_unused(self) -> None:
        if self.proc is None or self.pools():
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def _zfs_fuse_pids() -> list[int]:
    """Live zfs-fuse processes (zombies are gone)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() != "zfs-fuse":
                    continue
            if _alive(int(entry)):
                pids.append(int(entry))
    return pids


class Pool:
    def __init__(self, name: str, workdir: str, size_gb: int = 8):
        self.name = name
        self.image = os.path.join(workdir, f"{name}.img")
        self.mountpoint = os.path.join(workdir, "mnt")
        self.size_gb = size_gb

    def create(self) -> None:
        with open(self.image, "wb") as f:
            f.truncate(self.size_gb * 1024**3)
        runner.run(
            [
                "zpool",
                "create",
                "-o",
                "cachefile=none",
                "-m",
                self.mountpoint,
                self.name,
                self.image,
            ],
            timeout=60,
        )

    def datasets(self) -> list[str]:
        out = runner.run(
            ["zfs", "list", "-H", "-o", "name", "-t", "all", "-r", self.name]
        ).stdout
        return sorted(out.split())

    def get(self, dataset: str, prop: str) -> str:
        return runner.run(
            ["zfs", "get", "-H", "-p", "-o", "value", prop, dataset]
        ).stdout.strip()

    def destroy(self) -> None:
        # Right after tgtd lets go of a file, the pool can be "busy" a while.
        wait_for(
            lambda: (
                _ok("zpool", "destroy", "-f", self.name)
                or self.name not in ZfsFuse.pools()
            ),
            60,
            f"zpool destroy {self.name}",
            interval=0.5,
        )
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.image)


def port_free(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _connects(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((address, port)) == 0


class Tgtd:
    def __init__(
        self,
        logfile: str,
        address: str = "127.0.0.1",
        netns: str | None = None,
        port: int | None = None,
    ):
        self.address = address
        self.logfile = logfile
        self.netns = netns
        if port is not None:
            self.port = port
        else:
            self.port = (
                3260 if port_free(address, 3260) else free_port(address)
            )
        while True:
            self.control_port = random.randrange(1000, 32000)
            if not os.path.exists(f"/var/run/tgtd/socket.{self.control_port}"):
                break
        self.proc: subprocess.Popen | None = None

    def adm(self, *args, **kw) -> str:
        return runner.run(
            ["tgtadm", "-C", str(self.control_port), "--lld", "iscsi", *args],
            **kw,
        ).stdout

    def start(self) -> None:
        args = [
            "tgtd",
            "-f",
            "-C",
            str(self.control_port),
            "--iscsi",
            f"portal={self.address}:{self.port}",
        ]
        args = runner.in_netns(args, self.netns)
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT
            )
        # The control socket is a file: reachable from any namespace; the
        # portal only from its own.
        wait_for(
            lambda: (
                self.proc.poll() is not None
                or (
                    _ok(
                        "tgtadm",
                        "-C",
                        str(self.control_port),
                        "--op",
                        "show",
                        "--mode",
                        "target",
                    )
                    and (self.netns or _connects(self.address, self.port))
                )
            ),
            10,
            "tgtd answering",
        )
        assert self.proc.poll() is None, f"tgtd exited: see {self.logfile}"

    def tids(self) -> list[int]:
        return [
            int(line.split()[1].rstrip(":"))
            for line in self.adm(
                "--op", "show", "--mode", "target"
            ).splitlines()
            if line.startswith("Target ")
        ]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        stop_tgtd(self.control_port)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        """What the agent sees after tgtd died and came back: no targets."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        wait_for(
            lambda: port_free(self.address, self.port), 10, "portal released"
        )
        self.start()


def stop_tgtd(control_port: int, timeout: float = 10) -> None:
    """Stop the tgtd on this management channel, whoever started it: it
    ignores SIGTERM and refuses to stop while it has targets."""
    sock = f"/var/run/tgtd/socket.{control_port}"
    if not os.path.exists(sock):
        return
    adm = ["tgtadm", "-C", str(control_port), "--lld", "iscsi"]
    with contextlib.suppress(runner.CommandError):
        out = runner.run(adm + ["--op", "show", "--mode", "target"]).stdout
        for line in out.splitlines():
            if line.startswith("Target "):
                tid = line.split()[1].rstrip(":")
                runner.run(
                    adm
                    + [
                        "--op",
                        "delete",
                        "--mode",
                        "target",
                        "--tid",
                        tid,
                        "--force",
                    ]
                )
    with contextlib.suppress(runner.CommandError):
        runner.run(
            [
                "tgtadm",
                "-C",
                str(control_port),
                "--op",
                "delete",
                "--mode",
                "system",
            ]
        )
    with contextlib.suppress(WaitTimeout):
        wait_for(
            lambda: (
                not _ok(
                    "tgtadm",
                    "-C",
                    str(control_port),
                    "--op",
                    "show",
                    "--mode",
                    "target",
                )
            ),
            timeout,
            "tgtd exiting",
        )
    # tgtd leaves its management socket behind.
    for suffix in ("", ".lock"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{sock}{suffix}")
