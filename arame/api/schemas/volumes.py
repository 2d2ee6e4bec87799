from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from arame.api.schemas.common import (
    Name,
    ResourceId,
    Strict,
    Tags,
    UTCDateTime,
    check_name,
    integer,
)


class VolumeCreate(Strict):
    name: Name
    size_gb: integer(ge=1) | None = Field(
        default=None,
        description="GiB, at most [sta] max_volume_gb; default for a volume "
        "from an image or a snapshot: the smallest that holds it",
    )
    image: ResourceId | None = Field(
        default=None, description="a raw image to copy (not with snapshot)"
    )
    snapshot: ResourceId | None = Field(
        default=None,
        description="a snapshot to clone, on its storage node "
        "(not with image)",
    )
    tags: Tags = Field(default_factory=list)

    _name = field_validator("name")(check_name)


class AttachVolume(Strict):
    action: Literal["attach"]
    instance_id: ResourceId


class DetachVolume(Strict):
    action: Literal["detach"]


VolumeAction = Annotated[
    AttachVolume | DetachVolume, Field(discriminator="action")
]


class Volume(BaseModel):
    id: str
    name: str
    account_id: str
    size_gb: int
    status: str
    status_reason: str | None
    image: str | None
    snapshot: str | None
    storage_node: str | None
    instance_id: str | None = Field(
        description="the instance it is attached to"
    )
    device: str | None = Field(
        default=None, description="the guest's disk while attached (vdb...)"
    )
    root_of: str | None = Field(
        description="the instance whose root disk it is (made and removed "
        "with the instance)"
    )
    tags: list[str] = []
    created_at: UTCDateTime
    updated_at: UTCDateTime
    deleted_at: UTCDateTime | None


class VolumeAccepted(Volume):
    task_id: str


class VolumePage(BaseModel):
    items: list[Volume]
    next_marker: str | None
