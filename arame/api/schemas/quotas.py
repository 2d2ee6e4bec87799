from pydantic import BaseModel, Field

from arame.api.schemas.common import Strict

Limit = Field(default=None, ge=-1, le=10**9)


class QuotaUpdate(Strict):
    """New limits; null returns a limit to the cloud's default, -1 is no
    limit."""

    instances: int | None = Limit
    vcpus: int | None = Limit
    memory_mb: int | None = Limit
    volumes: int | None = Limit
    storage_gb: int | None = Limit


class QuotaSet(BaseModel):
    instances: int
    vcpus: int
    memory_mb: int
    volumes: int
    storage_gb: int


class Quota(BaseModel):
    account_id: str
    limits: QuotaSet
    in_use: QuotaSet
