"""What every service whose writes end in a cast to the scheduler shares:
the client, and the one way a cast that the bus refuses ends its task."""

from collections.abc import Callable, Iterable

import sqlalchemy as sa

from arame.api.errors import ServiceUnavailable
from arame.common import exceptions, tasks
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.common.rpc import version_cap
from arame.scheduler import rpcapi as scheduler_rpcapi

NOT_STARTED = "the message bus is not reachable; the request was not started"


class SchedulerCaster:
    """The scheduler's client, made on first use (a process that only
    reads never opens it; tests pass their own)."""

    def __init__(self, scheduler=None):
        self._scheduler = scheduler

    @property
    def scheduler(self):
        if self._scheduler is None:
            self._scheduler = scheduler_rpcapi.SchedulerAPI()
        return self._scheduler


def dispatch(
    send: Callable[[], object],
    task_id: str,
    record: tuple[type, str, Iterable[str]] | None = None,
    unavailable: str = NOT_STARTED,
) -> None:
    """Hand over to the scheduler. If the bus refuses, end the task now
    (step `dispatch`), and the record it was moving, `(model, id, states it
    may be in)`, in `error`, rather than leave both to the reaper; then
    answer 503 with `unavailable` (409 when the schedulers are too old for
    the message: retrying will not help until they are upgraded)."""
    try:
        send()
    except Exception as e:
        capped = isinstance(e, version_cap.VersionCapped)
        why = str(e) if capped else f"could not reach the scheduler: {e}"
        with db_engine.session() as s:
            tasks.fail(s, task_id, "dispatch", why)
            if record is not None:
                model, resource_id, src_states = record
                s.execute(
                    sa.update(model)
                    .where(
                        model.id == resource_id,
                        model.status.in_(list(src_states)),
                    )
                    .values(
                        status="error",
                        updated_at=models.utcnow(),
                        status_reason=(
                            "the schedulers are too old for this request"
                            if capped
                            else "could not reach the scheduler"
                        ),
                    )
                )
        if capped:
            raise exceptions.Conflict(str(e)) from e
        raise ServiceUnavailable(unavailable) from e
