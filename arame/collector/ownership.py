"""Whether a flow owns an instance: then what the collector observes of it
(a power state, a drifted counter) is the flow's to settle, not ours.

A flow owns an instance while its task is queued or running and the
instance is in a busy state: every flow moves its instance only by a
compare-and-set from its own busy states, so a flow whose instance has
left them (an `error` with a stale queued task) can no longer move it. A
queued or running task of a kind the state table does not know (not an
instance action) owns its instance whatever its state: we cannot tell
what it will do.
"""

import sqlalchemy as sa

from arame.common import states
from arame.common.db import models

ACTIVE = ("queued", "running")


def owned_by_flow(instance=models.Instance):
    """SQL condition on `instance` (the model or an alias of it): true
    while a flow owns that row."""
    T = models.Task
    return sa.exists().where(
        T.resource_id == instance.id,
        T.status.in_(ACTIVE),
        sa.or_(
            instance.status.in_(sorted(states.INSTANCE_BUSY)),
            T.action.not_in(sorted(states.INSTANCE_TASKS)),
        ),
    )


def is_owned(session, instance_id: str) -> bool:
    I = models.Instance
    return bool(
        session.scalar(sa.select(owned_by_flow(I)).where(I.id == instance_id))
    )
