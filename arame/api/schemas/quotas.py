from pydantic import BaseModel

from arame.api.schemas.common import Strict, integer

# -1: no limit.
Limit = integer(ge=-1, le=10**9)


class QuotaUpdate(Strict):
    """New limits; null returns a limit to the cloud's default, -1 is no
    limit."""

    instances: Limit | None = None
    vcpus: Limit | None = None
    memory_mb: Limit | None = None
    volumes: Limit | None = None
    storage_gb: Limit | None = None
    floating_ips: Limit | None = None


class QuotaSet(BaseModel):
    instances: int
    vcpus: int
    memory_mb: int
    volumes: int
    storage_gb: int
    floating_ips: int


class Quota(BaseModel):
    account_id: str
    limits: QuotaSet
    in_use: QuotaSet
