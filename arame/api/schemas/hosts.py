from typing import Literal

from pydantic import BaseModel

from arame.api.schemas.common import UTCDateTime


class ServiceInfo(BaseModel):
    binary: str
    topic: str
    version: str
    state: Literal["up", "down"]
    last_heartbeat_at: UTCDateTime | None
    heartbeat_age_s: float | None


class StorageCapacity(BaseModel):
    """A storage node's pool as its last heartbeat reported it."""

    pool: str | None
    volume_mode: str | None
    size_bytes: int
    free_bytes: int
    allocated_bytes: int
    provisioned_bytes: int
    reported_at: UTCDateTime
    report_age_s: float | None


class HostInfo(BaseModel):
    name: str
    id: str | None
    state: Literal["up", "down"]
    provider: str | None
    hypervisor_type: str | None
    enabled: bool | None
    vcpus: int | None
    vcpus_used: int | None
    memory_mb: int | None
    memory_mb_used: int | None
    disk_gb: int | None
    disk_gb_used: int | None
    instances: int | None
    heartbeat_age_s: float | None
    services: list[ServiceInfo]
    storage: StorageCapacity | None = None


class HostPage(BaseModel):
    items: list[HostInfo]
    next_marker: str | None
