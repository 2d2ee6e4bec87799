from pydantic import BaseModel, field_validator

from arame.api.schemas.common import (
    Name,
    ResourceId,
    Strict,
    UTCDateTime,
    check_name,
)


class SnapshotCreate(Strict):
    name: Name
    volume_id: ResourceId

    _name = field_validator("name")(check_name)


class Snapshot(BaseModel):
    id: str
    name: str
    account_id: str
    volume_id: str
    size_gb: int
    status: str
    status_reason: str | None
    storage_node: str | None
    created_at: UTCDateTime
    updated_at: UTCDateTime
    deleted_at: UTCDateTime | None


class SnapshotAccepted(Snapshot):
    task_id: str


class SnapshotPage(BaseModel):
    items: list[Snapshot]
    next_marker: str | None
