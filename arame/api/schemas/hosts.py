from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from arame.api.schemas.common import Strict, UTCDateTime

# Why an operator took a host out, for the next operator to read.
REASON_MAX = 255


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
    # Out of service for work on it; like disabled, no new work and its
    # guests stay. None (as enabled) on a machine with no hypervisor.
    maintenance: bool | None = None
    maintenance_reason: str | None = None
    disabled_reason: str | None = None
    # The user who last changed enabled or maintenance.
    state_changed_by: str | None = None
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


def _no_null_default(schema: dict) -> None:
    # Left out is "unchanged": the document shows no default of null.
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None:
            del prop["default"]


Unset = SkipJsonSchema[None]


Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX)]


class HostUpdate(Strict):
    """Take a hypervisor host out of service or put it back: a disabled
    or maintenance host is given no new instances and keeps its guests.
    `reason` goes with what this request turns off (enabled: false,
    maintenance: true); turning back on clears its reason."""

    model_config = ConfigDict(json_schema_extra=_no_null_default)

    enabled: bool | Unset = None
    maintenance: bool | Unset = None
    # The length rule on the string alone: on the union it would be
    # applied to an explicit null too, and fail (a 500) instead of 422.
    reason: Reason | Unset = None
