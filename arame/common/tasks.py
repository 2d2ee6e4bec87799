"""Tasks: every change to a host is a task with a history of events.

The API creates the task (queued); the flow that runs it records each step as
an event with host and duration and ends it done or failed; the reaper fails
it when its deadline passes.
"""

import datetime as dt

import sqlalchemy as sa

from arame.common import ids, states
from arame.common.db import models


def create(
    session,
    *,
    account_id: str,
    resource_id: str,
    resource_type: str,
    action: str,
    timeout_s: int,
    request_id: str | None = None,
) -> models.Task:
    now = models.utcnow()
    task = models.Task(
        id=ids.generate("task"),
        account_id=account_id,
        resource_id=resource_id,
        resource_type=resource_type,
        action=action,
        status="queued",
        request_id=request_id,
        created_at=now,
        updated_at=now,
        deadline_at=now + dt.timedelta(seconds=timeout_s),
    )
    session.add(task)
    return task


def set_status(session, task_id: str, status: str, **values) -> bool:
    """Move a task to `status` if the table allows it from where it is."""
    rc = session.execute(
        sa.update(models.Task)
        .where(
            models.Task.id == task_id,
            models.Task.status.in_(states.TASK.sources(status)),
        )
        .values(status=status, updated_at=models.utcnow(), **values)
    ).rowcount
    return rc == 1


def add_event(
    session,
    task_id: str,
    step: str,
    status: str,
    *,
    duration_ms: float | None = None,
    host: str | None = None,
    message: str | None = None,
    at=None,
) -> None:
    session.add(
        models.TaskEvent(
            task_id=task_id,
            step=step,
            status=status,
            duration_ms=duration_ms,
            host=host,
            message=(message or None) and message[:1024],
            at=at or models.utcnow(),
        )
    )


# Built once (common/db/prepared.py): each flow step's events go in here.
_INSERT_EVENTS = sa.insert(models.TaskEvent.__table__)


def add_events(session, task_id: str, events: list[dict]) -> None:
    """Many events (add_event's keywords each) in one statement."""
    if not events:
        return
    session.execute(
        _INSERT_EVENTS,
        [
            {
                "task_id": task_id,
                "step": e["step"],
                "status": e["status"],
                "duration_ms": e.get("duration_ms"),
                "host": e.get("host"),
                "message": (e.get("message") or None) and e["message"][:1024],
                "at": e.get("at") or models.utcnow(),
            }
            for e in events
        ],
    )


def fail(session, task_id: str, step: str | None, message: str) -> bool:
    return set_status(
        session,
        task_id,
        "failed",
        error_step=step,
        error_message=message[:1024],
    )


EVENT_FIELDS = ("step", "status", "at", "duration_ms", "host", "message")


def to_dict(task, events: list[dict] | None = None) -> dict:
    """`task`: a Task, or a row of the tasks table with `events` its
    events already as dicts of EVENT_FIELDS (the API's read of one task)."""
    if events is None:
        events = [
            {f: getattr(e, f) for f in EVENT_FIELDS} for e in task.events
        ]
    return {
        "id": task.id,
        "status": task.status,
        "resource_id": task.resource_id,
        "resource_type": task.resource_type,
        "action": task.action,
        "step": task.step,
        "error": (
            {"step": task.error_step, "message": task.error_message}
            if task.status == "failed"
            else None
        ),
        "events": events,
        "deadline_at": task.deadline_at,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }
