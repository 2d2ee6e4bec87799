from pydantic import BaseModel

from arame.api.schemas.common import UTCDateTime


class UsageRecord(BaseModel):
    id: int
    account_id: str
    resource_id: str
    resource_type: str
    event: str
    flavor: str | None
    vcpus: int | None
    memory_mb: int | None
    size_gb: int | None = None
    at: UTCDateTime


class UsagePage(BaseModel):
    items: list[UsageRecord]
    next_marker: int | None
