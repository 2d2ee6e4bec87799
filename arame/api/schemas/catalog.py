from typing import Literal

from pydantic import BaseModel, Field, field_validator

from arame.api.schemas.common import (
    Name,
    Strict,
    Tags,
    UTCDateTime,
    check_name,
    integer,
)


class FlavorCreate(Strict):
    name: Name
    provider: Literal["vm", "bm"] = "vm"
    vcpus: integer(ge=1, le=1024)
    memory_mb: integer(ge=16, le=16 * 1024 * 1024)
    disk_gb: integer(ge=0, le=1024 * 1024)

    _name = field_validator("name")(check_name)


class Flavor(BaseModel):
    name: str
    provider: str
    vcpus: int
    memory_mb: int
    disk_gb: int


class FlavorPage(BaseModel):
    items: list[Flavor]
    next_marker: str | None


class Image(BaseModel):
    id: str
    name: str
    account_id: str
    visibility: str
    format: str
    status: str
    status_reason: str | None
    size_bytes: int | None
    sha256: str | None
    tags: list[str] = []
    created_at: UTCDateTime
    updated_at: UTCDateTime


class ImagePage(BaseModel):
    items: list[Image]
    next_marker: str | None


# 2**53 - 1 (8 PiB): the largest integer every JSON reader keeps exactly;
# a bound past it (2**62) reads as equal to numbers above it once a client
# or a validator holds it as a double.
MAX_BYTES = 2**53 - 1


class ImageCreate(Strict):
    """POST /v1/images: the metadata; the bytes follow with PUT .../data."""

    name: Name
    format: Literal["raw", "qcow2", "kernel"]
    size_bytes: integer(ge=1, le=MAX_BYTES) | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    visibility: Literal["private", "public"] = "private"
    tags: Tags = Field(default_factory=list)

    _name = field_validator("name")(check_name)
