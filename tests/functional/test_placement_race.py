"""A build's placement and its task's take are one transaction, on real
MariaDB: the same task cast to two schedulers at once is placed once, and
the scheduler that loses keeps nothing of its claim.

The two schedulers are two threads, each with its own leases (owner) and
its own connections, as two processes would have. The first is held
after its claim, before its take, until the second is seen waiting on
the first's locks; then both run to their ends.
"""

import threading

import pytest
import sqlalchemy as sa

from arame.common import ids, tasks
from arame.common.conf import CONF
from arame.common.context import admin_context
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.flows.base import Cancelled
from arame.scheduler.flows.build import BuildFlow
from arame.scheduler.leases import Leases
from arame.scheduler.selector import HostSelector
from tests.helpers.mariadb import fresh_database
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def database():
    """This process's engine on a fresh MariaDB database."""
    # The option is set, never parsed: the unit tests, run in the same
    # process after these, parse the configuration themselves.
    with fresh_database("ft_place_") as url:
        CONF.set_override("connection", url, group="database")
        db_engine.reset()
        try:
            with db_engine.session() as s:
                s.add(models.Account(id="a-admin", name="admin"))
            yield url
        finally:
            CONF.clear_override("connection", group="database")
            db_engine.reset()


def pending_build(vcpus_free: int) -> tuple[str, str]:
    """A host with room for `vcpus_free` small instances, and a pending
    instance with its queued create task, as the API leaves them."""
    now = models.utcnow()
    iid = ids.generate("instance")
    with db_engine.session() as s:
        s.execute(sa.delete(models.Host))
        s.add(
            models.Host(
                id=ids.generate("host"),
                name="hv1",
                provider="vm",
                hypervisor_type="fake",
                vcpus=vcpus_free,
                memory_mb=512 * vcpus_free,
                disk_gb=5 * vcpus_free,
                enabled=True,
                last_report_at=now,
            )
        )
        s.add(
            models.Instance(
                id=iid,
                name="web-1",
                hostname="web-1",
                account_id="a-admin",
                flavor="small",
                image_id="img-00000000",
                provider="vm",
                vcpus=1,
                memory_mb=512,
                disk_gb=5,
                status="pending",
                created_at=now,
                updated_at=now,
            )
        )
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id=iid,
            resource_type="instance",
            action="create",
            timeout_s=600,
        ).id
    return iid, tid


def claims_waiting() -> int:
    """Claims (UPDATE hosts) in progress on this user's connections: the
    first's connection is idle in its transaction, so one is the second,
    waiting on the first's lock (a user sees its own threads)."""
    with db_engine.session() as s:
        return s.scalar(
            sa.text(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                "WHERE INFO LIKE 'UPDATE hosts%'"
            )
        )


def test_the_same_build_cast_twice_at_once_is_placed_once(
    database, monkeypatch
):
    iid, tid = pending_build(vcpus_free=2)
    first, second = Leases(), Leases()
    claimed = threading.Event()
    go_on = threading.Event()
    take = Leases.take

    def held_take(self, s, task_id, **values):
        if self is first:
            claimed.set()
            assert go_on.wait(30)
        return take(self, s, task_id, **values)

    monkeypatch.setattr(Leases, "take", held_take)
    results = {}

    def schedule(name, leases):
        flow = BuildFlow(admin_context(), tid, iid, HostSelector(), None)
        flow.leases = leases
        results[name] = (flow.begin(), flow)

    a = threading.Thread(target=schedule, args=("first", first))
    a.start()
    assert claimed.wait(30)
    b = threading.Thread(target=schedule, args=("second", second))
    b.start()
    # The second waits on the first's locks (the host's row, claimed and
    # not yet committed) before the first takes the task and commits.
    wait_until(lambda: claims_waiting() >= 1, timeout=30, interval=0.02)
    go_on.set()
    a.join(30)
    b.join(30)
    assert not a.is_alive() and not b.is_alive()

    assert results["first"][0] is True
    assert results["second"][0] is False
    # It got as far as the instance's claim (the host's had room for two)
    # and found the instance placed.
    assert isinstance(results["second"][1].not_placed, Cancelled)
    assert second.held() == [] and first.held() == [tid]
    with db_engine.session() as s:
        host = s.scalar(
            sa.select(models.Host).where(models.Host.name == "hv1")
        )
        inst = s.get(models.Instance, iid)
        task = s.get(models.Task, tid)
        events = [(e.step, e.status) for e in task.events]
        # Placed once: one instance's capacity, on the one host.
        used = (host.vcpus_used, host.memory_mb_used, host.instance_count)
        assert used == (1, 512, 1)
        assert (inst.status, inst.host, inst.claimed) == (
            "starting",
            "hv1",
            True,
        )
        assert (task.status, task.owner, task.step, task.attempts) == (
            "running",
            first.owner,
            "schedule",
            1,
        )
        # Only the first's record: the second's rolled back with its take.
        assert events == [("schedule", "done")]
