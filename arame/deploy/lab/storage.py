"""Real storage for the lab (`tools/lab up --storage zfs`): the storage
host's sta on this machine's zfs-fuse and a tgtd of the host's own.

- zfs-fuse: one per machine, in the machine's own namespaces. The lab
  uses the one running, or starts one (its pid in `<lab>/run`) and stops
  it at `down` only if no pool is left in it (another user's pools keep
  it up).
- the pool `alab-<host>`: a sparse file in `<lab>/storage`,
  `cachefile=none` (a dead pool is never re-imported), mounted under
  `<lab>/zfs`. That directory is a *shared* mount made before the hosts'
  mount namespaces: theirs are its slaves, so the datasets zfs-fuse
  mounts later (in the machine's namespace) appear in the storage host,
  where sta and tgtd open their disk.raw files.
- tgtd: in the storage host's namespaces, its portal on the host's
  management address (where the hypervisors' qemu initiators connect
  from their own addresses), its control socket in the host's private
  /run/tgtd (a bind of `<lab>/<host>/run/tgtd`): sta talks to it on the
  default channel, and no tgtd of the machine is in reach.

`down` removes all of it by name, whatever `up` got through before it
was stopped: tgtd (targets deleted, then the process), the pool, the
shared mount, the file.
"""

import contextlib
import os

from arame.common import waiting
from arame.deploy.infra.commands import InfraError, run
from arame.deploy.lab import topology

BACKENDS = ("fake", "zfs")
ISCSI_PORT = 3260
POOL_SIZE_GB = 20
TGTD_DIR = "/run/tgtd"


def pool_name(prefix: str, host: topology.Host) -> str:
    return f"{prefix}-{host.short}"


class LabStorage:
    """The storage host's pool and tgtd. `supervisor(host)` and `run_on`
    come from the lab (its processes and its way into a host)."""

    def __init__(self, lab, host: topology.Host, prefix: str):
        self.lab = lab
        self.host = host
        self.pool = pool_name(prefix, host)
        self.shared_dir = os.path.join(lab.lab_dir, "zfs")
        self.mountpoint = os.path.join(self.shared_dir, self.pool)
        self.image = os.path.join(lab.lab_dir, "storage", f"{self.pool}.img")

    # -- the config --------------------------------------------------------
    def sta_options(self) -> dict:
        return {
            "backend": "zfs",
            "target": "tgt",
            "pool": self.pool,
            "iscsi_address": self.host.mgmt_ip,
            "iscsi_port": str(ISCSI_PORT),
        }

    # -- up ------------------------------------------------------------------
    def preflight(self) -> None:
        if self.pool in _pools():
            raise InfraError(
                f"pool {self.pool} exists (a lab was stopped halfway): "
                "tools/lab down first"
            )

    def share_mounts(self) -> None:
        """Before the hosts' namespaces exist: only a shared mount that is
        there when a namespace is made has that namespace as its slave."""
        os.makedirs(self.shared_dir, mode=0o755, exist_ok=True)
        if not _mounted(self.shared_dir):
            run(["mount", "--bind", self.shared_dir, self.shared_dir])
        run(["mount", "--make-shared", self.shared_dir])

    def create_pool(self) -> None:
        self._ensure_zfs_fuse()
        if self.pool in _pools():
            return
        os.makedirs(os.path.dirname(self.image), mode=0o700, exist_ok=True)
        with open(self.image, "wb") as f:
            f.truncate(POOL_SIZE_GB * 1024**3)
        run(
            ["zpool", "create", "-o", "cachefile=none", "-m", self.mountpoint]
            + [self.pool, self.image],
            timeout=60,
        )
        # The proof that sta will find its datasets: the pool's root, as
        # the storage host sees it.
        waiting.wait_for(
            lambda: self._seen_in_host(self.mountpoint),
            10,
            f"{self.mountpoint} mounted in {self.host.name}",
        )

    def _seen_in_host(self, path: str) -> bool:
        found = run(
            self.lab.ns.enter(self.host)
            + ["findmnt", "-rn", "-o", "TARGET", path],
            check=False,
        )
        return found.returncode == 0 and path in found.stdout

    def _ensure_zfs_fuse(self) -> None:
        if _zfs_answers():
            return
        self.lab.root.start(
            "zfs-fuse",
            ["/usr/sbin/zfs-fuse", "--no-daemon", "-a", "0", "-e", "0"],
        )
        proc = self.lab.root.get("zfs-fuse")
        waiting.wait_for(
            lambda: _zfs_answers() or not proc.alive(),
            60,
            "zfs-fuse to answer",
        )
        if not _zfs_answers():
            raise InfraError(
                f"zfs-fuse exited (one is still stopping?): see {proc.log}"
            )

    def start_tgtd(self) -> None:
        """Before sta, as a storage host's boot orders them."""
        os.makedirs(
            self.lab.paths(self.host).path("run", "tgtd"),
            mode=0o755,
            exist_ok=True,
        )
        sup = self.lab.supervisor(self.host)
        sup.start(
            "tgtd",
            [
                "/usr/sbin/tgtd",
                "-f",
                "--iscsi",
                f"portal={self.host.mgmt_ip}:{ISCSI_PORT}",
            ],
        )
        proc = sup.get("tgtd")
        waiting.wait_for(
            lambda: (
                not proc.alive()
                or self._tgtadm("--op", "show", "--mode", "target") is not None
            ),
            15,
            f"tgtd of {self.host.name} to answer",
        )
        if not proc.alive():
            raise InfraError(
                f"tgtd exited (its log {proc.log}):\n{proc.last_words(5)}"
            )

    def _tgtadm(self, *args: str) -> str | None:
        done = run(
            self.lab.ns.enter(self.host) + ["tgtadm", "--lld", "iscsi", *args],
            check=False,
        )
        return done.stdout if done.returncode == 0 else None

    def targets(self) -> str:
        """`tgtadm --op show --mode target` of the host's tgtd."""
        return self._tgtadm("--op", "show", "--mode", "target") or ""

    # -- down ----------------------------------------------------------------
    def stop_tgtd(self) -> None:
        """While the host's namespaces are still there. tgtd ignores
        SIGTERM and will not stop with targets: they go first (--force:
        every initiator is stopped by now)."""
        sup = self.lab.supervisor(self.host)
        if not sup.get("tgtd").alive():
            sup.stop("tgtd")
            return
        for line in self.targets().splitlines():
            if line.startswith("Target "):
                tid = line.split()[1].rstrip(":")
                self._tgtadm(
                    "--op",
                    "delete",
                    "--mode",
                    "target",
                    "--tid",
                    tid,
                    "--force",
                )
        self._tgtadm("--op", "delete", "--mode", "system")
        proc = sup.get("tgtd")
        with contextlib.suppress(waiting.WaitTimeout):
            waiting.wait_for(lambda: not proc.alive(), 10, "tgtd to exit")
        sup.stop("tgtd", timeout=1)  # SIGKILL if it is still there

    def remove_pool(self) -> None:
        """After the hosts' namespaces are gone (their copies of the
        datasets' mounts with them)."""
        if self.pool in _pools():
            # Right after tgtd lets go of a file the pool can be busy.
            waiting.wait_for(
                lambda: (
                    run(
                        ["zpool", "destroy", "-f", self.pool],
                        check=False,
                        timeout=60,
                    ).returncode
                    == 0
                    or self.pool not in _pools()
                ),
                60,
                f"zpool destroy {self.pool}",
                interval=0.5,
            )
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.image)
        # What zfs-fuse may have left mounted under the shared dir (its
        # FUSE mounts die with it), then the shared dir itself.
        for target in reversed(_mounts_under(self.shared_dir)):
            run(["umount", "-l", target], check=False)
        self._stop_zfs_fuse_if_unused()

    def _stop_zfs_fuse_if_unused(self) -> None:
        proc = self.lab.root.get("zfs-fuse")
        if not proc.alive():
            self.lab.root.stop("zfs-fuse")  # its stale pidfile
            return
        if _pools():
            return  # someone else's pools: it stays up for them
        # ~5 s to exit after SIGTERM (INFRA-NOTES).
        self.lab.root.stop("zfs-fuse", timeout=30)

    def leftovers(self) -> list[str]:
        left = []
        if self.pool in _pools():
            left.append(f"pool {self.pool}")
        left += [f"mount {m}" for m in _mounts_under(self.shared_dir)]
        if self.lab.supervisor(self.host).get("tgtd").alive():
            left.append(f"process tgtd on {self.host.name}")
        if os.path.exists(self.image):
            left.append(f"file {self.image}")
        return left


def _zfs_answers() -> bool:
    return (
        run(["zpool", "list", "-H", "-o", "name"], check=False).returncode == 0
    )


def _pools() -> list[str]:
    done = run(["zpool", "list", "-H", "-o", "name"], check=False)
    return done.stdout.split() if done.returncode == 0 else []


def _mounted(path: str) -> bool:
    return path in _mounts_under(path)


def _mounts_under(path: str) -> list[str]:
    """Mount points at or below `path` in this mount namespace, outermost
    first."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return sorted(
        {p for p in points if p == path or p.startswith(path + "/")},
        key=len,
    )
