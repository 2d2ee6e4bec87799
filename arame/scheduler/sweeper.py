"""The sweep: every scheduler keeps its leases and picks up what no live
scheduler is doing.

Each round (every [scheduler] sweep_interval) renews this process's leases
when a quarter of a lease has passed (one UPDATE for all of them), then
looks for
- parent tasks (common/task_tree.py) whose children have all ended;
- running tasks whose lease lapsed: their scheduler died, hung or gave up
  on a database failure; adopted (compare-and-set, so one scheduler wins)
  and resumed from their last completed step;
- queued tasks older than [scheduler] lost_cast_grace: their cast was lost
  (with a broker, or consumed by a process that died before it began);
  run from the start (begin()'s compare-and-set makes a late cast a no-op).
A task adopted [scheduler] task_max_attempts times fails instead: the flow
itself is what kills its schedulers. The deadline the reaper enforces
stays the last resort.
"""

import concurrent.futures
import datetime as dt
import time

import sqlalchemy as sa
from oslo_log import log

from arame.common import context, task_tree, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.common.db import retry as db_retry
from arame.common.service import PeriodicComponent

LOG = log.getLogger(__name__)

T = models.Task
BATCH = 100


class Sweeper(PeriodicComponent):
    def __init__(self, manager, workers: int = 8):
        self.manager = manager
        self.leases = manager.leases
        self._renewed = 0.0
        self._pool = concurrent.futures.ThreadPoolExecutor(
            workers, thread_name_prefix="adopted"
        )
        super().__init__(
            "task-sweep", self.sweep, lambda: CONF.scheduler.sweep_interval
        )

    def stop(self) -> None:
        super().stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def sweep(self) -> None:
        try:
            self.renew()
            for task, adopted in self.find():
                self._pool.submit(self._resume, task, adopted)
            self.settle_parents()
        except Exception as e:
            if not db_retry.is_transient(e):
                raise
            LOG.warning("task sweep: database unavailable: %s", e)

    def renew(self) -> None:
        now = time.monotonic()
        if now - self._renewed < CONF.scheduler.task_lease / 4:
            return
        with db_engine.session() as s:
            self.leases.renew(s)
        self._renewed = now

    def find(self) -> list[tuple[models.Task, bool]]:
        """Tasks this scheduler now owns (adopted) or may start (lost
        casts), each with `adopted`."""
        now = models.utcnow()
        lost_before = now - dt.timedelta(
            seconds=CONF.scheduler.lost_cast_grace
        )
        with db_engine.session() as s:
            lapsed = s.scalars(
                sa.select(T)
                .where(
                    T.status == "running",
                    sa.or_(T.lease_until.is_(None), T.lease_until < now),
                    # Tasks the collector records as it observes them
                    # have no flow and no deadline to run.
                    T.deadline_at > T.created_at,
                    # Parents have no flow: settle_parents() ends them.
                    T.children.is_(None),
                )
                .limit(BATCH)
            ).all()
            lost = s.scalars(
                sa.select(T)
                .where(
                    T.status == "queued",
                    T.created_at < lost_before,
                    T.children.is_(None),
                )
                .limit(BATCH)
            ).all()
        found = []
        for t in lapsed:
            if self._adopt(t, now):
                found.append((t, True))
        found += [(t, False) for t in lost]
        return found

    def settle_parents(self) -> None:
        """End the parents whose children all ended where no child's flow
        settled them (it died first, or the reaper or a refused cast
        ended the child)."""
        with db_engine.session() as s:
            parents = task_tree.running_parents(s, BATCH)
        for parent_id in parents:
            task_tree.settle(parent_id)

    def _adopt(self, t: models.Task, now: dt.datetime) -> bool:
        with db_engine.session() as s:
            if t.attempts >= CONF.scheduler.task_max_attempts:
                if tasks.fail(
                    s,
                    t.id,
                    t.step,
                    f"abandoned: its flow stopped {t.attempts} times "
                    "without ending (see the schedulers' logs)",
                ):
                    LOG.error(
                        "task %s failed after %d attempts", t.id, t.attempts
                    )
                return False
            if not self.leases.adopt(s, t.id, now):
                return False  # another scheduler was quicker
        LOG.warning(
            "adopted task %s (%s %s %s) at step %s from %s",
            t.id,
            t.action,
            t.resource_type,
            t.resource_id,
            t.step,
            t.owner,
        )
        return True

    def _resume(self, task: models.Task, adopted: bool) -> None:
        ctxt = context.RequestContext(
            request_id=task.request_id or f"req-sweep-{task.id}",
            account_id=task.account_id,
            roles=("admin",),
        )
        try:
            self.manager.resume(ctxt, task, adopted)
        except Exception:
            LOG.exception("resuming task %s failed", task.id)
