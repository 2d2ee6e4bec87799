"""The scheduler benchmark's world: a MariaDB database of its own at the
newest schema, seeded as a cloud starts (admin, flavors, test image), with
N fake hosts and pending instances (each with its queued build task, as
the API makes them), inserted in bulk; and the check that no capacity was
given twice."""

import datetime as dt
import random
import secrets

import sqlalchemy as sa

from arame.common import ids
from arame.common.conf import CONF
from arame.common.db import engine, migration, models, seed
from arame.deploy import infra

# Every host alike but for what is already used, so that the weigher has
# an order to keep (and hosts are found in every state of filling).
HOST = {"vcpus": 32, "memory_mb": 131072, "disk_gb": 2000}
FLAVOR = {"vcpus": 1, "memory_mb": 512, "disk_gb": 1}


class World:
    def __init__(self, mariadb: infra.MariaDB | None = None):
        self.mariadb = mariadb or infra.MariaDB()
        tag = secrets.token_hex(3)
        self.database = f"arame_schedbench_{tag}"
        self.user = f"arame_sb_{tag}"
        self.url: str | None = None

    def create(self) -> str:
        self.mariadb.ensure_running()
        pw = secrets.token_urlsafe(18)
        self.mariadb.create_database(self.database, self.user, pw)
        self.url = self.mariadb.url(self.database, self.user, pw)
        use(self.url)
        migration.db_sync()
        seed.seed_flavors()
        seed.bootstrap_admin(secrets.token_urlsafe(12))
        self.admin_id = seed.ADMIN_ACCOUNT
        self.image_id = seed.seed_test_image()
        return self.url

    def drop(self) -> None:
        engine.reset()
        self.mariadb.drop_database(self.database)
        self.mariadb.drop_user(self.user)


def use(url: str) -> None:
    """Point this process's engine at the world (also in each worker)."""
    CONF.set_override("connection", url, group="database")
    # Hosts never heartbeat here: none goes down during a run.
    CONF.set_override("service_down_time", 86400)
    engine.reset()


def set_hosts(count: int, seed_: int = 1) -> None:
    """Exactly `count` hosts, partly used at random (no instances: what
    the decision reads is the hosts' columns alone)."""
    rnd = random.Random(seed_)
    now = models.utcnow()
    H = models.Host.__table__
    rows = [
        {
            "id": ids.generate("host"),
            "name": f"fake{i:05d}",
            "provider": "vm",
            "hypervisor_type": "fake",
            **HOST,
            "vcpus_used": rnd.randint(0, 64),
            "memory_mb_used": rnd.randint(0, 64) * 1024,
            "disk_gb_used": rnd.randint(0, 500),
            "instance_count": rnd.randint(0, 40),
            "enabled": True,
            "maintenance": False,
            "last_report_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    with engine.session() as s:
        # What the builds of a previous race left.
        s.execute(sa.delete(models.TaskEvent))
        s.execute(sa.delete(models.Task))
        s.execute(sa.delete(models.Instance))
        s.execute(sa.delete(H))
        for i in range(0, len(rows), 1000):
            s.execute(sa.insert(H), rows[i : i + 1000])


def empty_hosts() -> None:
    """Every host back to empty (before the claims race)."""
    with engine.session() as s:
        s.execute(
            sa.update(models.Host.__table__).values(
                vcpus_used=0,
                memory_mb_used=0,
                disk_gb_used=0,
                instance_count=0,
                last_report_at=models.utcnow(),
                updated_at=models.utcnow(),
            )
        )


def add_instances(count: int, account_id: str, image_id: str):
    """`count` pending instances, each with its queued build task, as the
    API makes them; [(instance id, task id)]."""
    now = models.utcnow()
    deadline = now + dt.timedelta(hours=1)
    insts, tasks, pairs = [], [], []
    for n in range(count):
        iid, tid = ids.generate("instance"), ids.generate("task")
        pairs.append((iid, tid))
        insts.append(
            {
                "id": iid,
                "name": f"b{n}",
                "hostname": f"b{n}",
                "account_id": account_id,
                "flavor": "small",
                "image_id": image_id,
                "provider": "vm",
                **FLAVOR,
                "status": "pending",
                "claimed": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        tasks.append(
            {
                "id": tid,
                "account_id": account_id,
                "resource_id": iid,
                "resource_type": "instance",
                "action": "create",
                "status": "queued",
                "created_at": now,
                "updated_at": now,
                "deadline_at": deadline,
            }
        )
    with engine.session() as s:
        for i in range(0, count, 1000):
            s.execute(
                sa.insert(models.Instance.__table__), insts[i : i + 1000]
            )
            s.execute(sa.insert(models.Task.__table__), tasks[i : i + 1000])
    return pairs


def double_allocations() -> dict:
    """Each host's *_used against the sum of the instances claimed on it,
    no host past its capacity, every instance claimed at most once (its
    host set iff claimed)."""
    ratios = CONF.scheduler
    I, H = models.Instance, models.Host
    with engine.session() as s:
        sums = {
            r.host: r
            for r in s.execute(
                sa.select(
                    I.host,
                    sa.func.sum(I.vcpus).label("v"),
                    sa.func.sum(I.memory_mb).label("m"),
                    sa.func.sum(I.disk_gb).label("d"),
                    sa.func.count().label("n"),
                )
                .where(I.claimed.is_(True))
                .group_by(I.host)
            )
        }
        hosts = s.execute(
            sa.select(
                H.name,
                H.vcpus,
                H.memory_mb,
                H.disk_gb,
                H.vcpus_used,
                H.memory_mb_used,
                H.disk_gb_used,
                H.instance_count,
            )
        ).all()
        claimed = s.scalar(
            sa.select(sa.func.count()).where(I.claimed.is_(True))
        )
        bad_rows = s.scalar(
            sa.select(sa.func.count()).where(
                sa.or_(
                    sa.and_(I.claimed.is_(True), I.host.is_(None)),
                    sa.and_(I.claimed.is_(False), I.status != "pending"),
                )
            )
        )
    mismatched = over = 0
    for h in hosts:
        r = sums.get(h.name)
        want = (r.v, r.m, r.d, r.n) if r is not None else (0, 0, 0, 0)
        got = (
            h.vcpus_used,
            h.memory_mb_used,
            h.disk_gb_used,
            h.instance_count,
        )
        mismatched += tuple(int(x) for x in want) != got
        over += (
            h.vcpus_used > h.vcpus * ratios.cpu_allocation_ratio
            or h.memory_mb_used > h.memory_mb * ratios.ram_allocation_ratio
            or h.disk_gb_used > h.disk_gb * ratios.disk_allocation_ratio
        )
    return {
        "claimed": claimed,
        "hosts_mismatched": mismatched,
        "hosts_over_capacity": over,
        "instances_inconsistent": bad_rows,
    }
