"""The storage agent against the real daemons: zfs-fuse, tgtd, and qemu's
iSCSI initiator (qemu-io) on loopback.

Session: zfs-fuse (the running one, or ours), a pool `<run>sta` on a sparse
file, our own tgtd. Each test: a fresh STAManager over the ZFS backend and
the tgt target, an import directory, unique ids; after it, whatever it
left is removed (by force) so one failure does not cascade.
"""

import uuid

import pytest

from arame.agents.sta.backends.zfs import ZFSBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.tgt import TgtTarget
from arame.common import runner
from arame.deploy.storage import Pool, Tgtd, ZfsFuse

RUN = "t" + uuid.uuid4().hex[:4]
IQN_DOMAIN = f"org.arame.{RUN}"


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp(f"{RUN}-sta")


@pytest.fixture(scope="session")
def zfs_fuse(workdir):
    z = ZfsFuse(str(workdir))
    z.ensure()
    yield z
    z.stop_if_unused()


@pytest.fixture(scope="session")
def pool(zfs_fuse, workdir):
    p = Pool(f"{RUN}sta", str(workdir))
    p.create()
    yield p
    p.destroy()


@pytest.fixture(scope="session")
def tgtd(pool, workdir):
    # After the pool (so stopped before it): tgtd holds files in it.
    t = Tgtd(str(workdir / "tgtd.log"))
    t.start()
    yield t
    t.stop()


class Agent:
    def __init__(self, pool: Pool, tgtd: Tgtd, import_dir: str):
        self.pool = pool
        self.tgtd = tgtd
        self.import_dir = import_dir
        self.iqn_domain = IQN_DOMAIN
        backend = ZFSBackend(pool.name, "file", timeout=60)
        backend.init_host()
        self.target = TgtTarget(
            "127.0.0.1",
            tgtd.port,
            "2025-01",
            IQN_DOMAIN,
            control_port=tgtd.control_port,
        )
        self.mgr = STAManager(
            backend, self.target, max_volume_gb=200, import_dirs=[import_dir]
        )

    def leftovers(self) -> tuple[list[str], list[int]]:
        base = [
            self.pool.name,
            f"{self.pool.name}/images",
            f"{self.pool.name}/volumes",
        ]
        return (
            [d for d in self.pool.datasets() if d not in base],
            self.tgtd.tids(),
        )

    def force_clean(self) -> None:
        for tid in self.tgtd.tids():
            self.tgtd.adm(
                "--op",
                "delete",
                "--mode",
                "target",
                "--tid",
                str(tid),
                "--force",
            )
        for ds in ("volumes", "images"):
            runner.run(
                ["zfs", "destroy", "-r", "-R", f"{self.pool.name}/{ds}"],
                ok_codes=(0, 1),
            )
        self.mgr.backend.init_host()


@pytest.fixture
def agent(pool, tgtd, tmp_path):
    import_dir = tmp_path / "import"
    import_dir.mkdir()
    a = Agent(pool, tgtd, str(import_dir))
    yield a
    if a.leftovers() != ([], []):
        a.force_clean()
