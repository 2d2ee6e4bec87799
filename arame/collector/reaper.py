"""The reaper: nothing stays stuck.

oslo.messaging acknowledges a message before dispatching it, so a cast can be
lost when a process dies, and an agent can die mid-call. Every task carries a
deadline; past it (plus a grace period for the flow's own failure handling)
the reaper ends the task failed at the step it was in and moves the resource
out of its transitional state into error, with the reason.
"""

import datetime as dt

import sqlalchemy as sa
from oslo_log import log

from arame.common import states, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

LOG = log.getLogger(__name__)

# The record each kind of task holds in a busy state.
_MODELS = {
    "instance": models.Instance,
    "volume": models.Volume,
    "snapshot": models.Snapshot,
}


def reap(now: dt.datetime | None = None) -> int:
    now = now or models.utcnow()
    cutoff = now - dt.timedelta(seconds=CONF.collector.grace_period)
    T = models.Task
    with db_engine.session() as s:
        overdue = s.execute(
            sa.select(
                T.id,
                T.resource_id,
                T.resource_type,
                T.action,
                T.step,
                T.deadline_at,
            )
            .where(T.status.in_(("queued", "running")), T.deadline_at < cutoff)
            .limit(500)
        ).all()
    for t in overdue:
        message = f"deadline passed at {t.deadline_at.isoformat()}Z" + (
            f" during {t.step}" if t.step else " before it started"
        )
        with db_engine.session() as s:
            if not tasks.fail(s, t.id, t.step or "queued", message):
                continue  # the flow ended it meanwhile
            model = _MODELS.get(t.resource_type)
            task = states.TASKS_BY_KIND.get(t.resource_type, {}).get(t.action)
            if model is not None and task is not None:
                s.execute(
                    sa.update(model)
                    .where(
                        model.id == t.resource_id, model.status.in_(task.busy)
                    )
                    .values(
                        status="error",
                        status_reason=f"{t.action}: {message}"[:255],
                        updated_at=models.utcnow(),
                    )
                    .execution_options(synchronize_session=False)
                )
        LOG.warning(
            "reaped task %s (%s %s): %s",
            t.id,
            t.action,
            t.resource_id,
            message,
        )
    return len(overdue)
