from typing import Literal

from pydantic import BaseModel

from arame.api.schemas.common import UTCDateTime


class TaskError(BaseModel):
    step: str | None
    message: str | None


class TaskEvent(BaseModel):
    step: str
    status: str
    at: UTCDateTime
    duration_ms: float | None
    host: str | None
    message: str | None


class Task(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    resource_id: str
    resource_type: str
    action: str
    step: str | None
    error: TaskError | None
    events: list[TaskEvent]
    deadline_at: UTCDateTime
    created_at: UTCDateTime
    updated_at: UTCDateTime


class TaskPage(BaseModel):
    items: list[Task]
    next_marker: str | None
