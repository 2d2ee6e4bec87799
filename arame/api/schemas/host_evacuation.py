from typing import Literal

from pydantic import BaseModel

from arame.api.schemas.common import UTCDateTime


class EvacuationTask(BaseModel):
    instance_id: str
    task_id: str
    # False: the instance was being evacuated already (its task).
    new: bool


class NotEvacuated(BaseModel):
    instance_id: str
    reason: str


class EvacuationAccepted(BaseModel):
    """One task per instance that moves; the others and why they stay."""

    host: str
    state: Literal["evacuating", "ended"]
    fenced_at: UTCDateTime | None
    tasks: list[EvacuationTask]
    not_evacuated: list[NotEvacuated]
