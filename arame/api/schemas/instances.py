from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_serializer

from arame.api.schemas.common import (
    Hostname,
    Name,
    ResourceId,
    Strict,
    Tags,
    UTCDateTime,
    check_name,
)


class InstanceCreate(Strict):
    name: Name
    flavor: Name
    image: ResourceId
    hostname: Hostname | None = None
    user_data: str | None = Field(default=None, max_length=4 * 1024 * 1024)
    ha_enabled: bool = True
    root_gb: int | None = Field(
        default=None,
        ge=1,
        description="a root disk larger than the flavor's (GB; at least "
        "its disk_gb, at most [api] max_root_gb); counted in storage_gb",
    )
    network: ResourceId | None = Field(
        default=None,
        description="default: the shared network `default`, "
        "if there is one (else no NIC)",
    )
    ip_address: str | None = Field(
        default=None,
        max_length=45,
        description="a fixed address on the network (409 if taken)",
    )
    key_pair: ResourceId | None = Field(
        default=None, description="one key pair (or give key_pairs)"
    )
    key_pairs: list[ResourceId] | None = Field(
        default=None,
        max_length=10,
        description="key pairs of the account, every public key in the "
        "instance's config drive (not with key_pair)",
    )
    security_groups: list[ResourceId] | None = Field(
        default=None,
        max_length=5,
        description="groups of the account; default: its group `default`",
    )
    # Accepted in the shape the REST conventions give; refused with a clear 422 until the
    # agents behind them exist (see arame.api.services.instances).
    volumes: list[ResourceId] | None = Field(default=None, max_length=16)
    tags: Tags = Field(default_factory=list)

    _name = field_validator("name")(check_name)


class InstanceAction(Strict):
    action: Literal["start", "stop", "reboot"]


class Address(BaseModel):
    network_id: str
    ip_address: str
    mac_address: str
    hostname: str
    floating_ip: str | None = Field(
        default=None,
        description="the floating IP associated with this address (only "
        "where there is one)",
    )

    @model_serializer(mode="wrap")
    def _only_with_a_floating_ip(self, handler):
        out = handler(self)
        if out.get("floating_ip") is None:
            out.pop("floating_ip", None)
        return out


class AttachedVolume(BaseModel):
    id: str
    device: str | None


class Instance(BaseModel):
    id: str
    name: str
    hostname: str
    status: str
    status_reason: str | None
    power_state: str | None
    flavor: str
    image: str
    host: str | None
    account_id: str
    ha_enabled: bool
    key_pair: str | None = Field(
        default=None, description="the first of key_pairs"
    )
    key_pairs: list[str] = []
    root_gb: int | None = Field(
        default=None, description="a root disk larger than the flavor's"
    )
    unit: str | None = Field(
        default=None, description="the unit it is a node of"
    )
    unit_group: str | None = None
    addresses: list[Address]
    security_groups: list[str] = []
    tags: list[str] = []
    volumes: list[AttachedVolume] = Field(
        default=[], description="data volumes attached (root volume aside)"
    )
    created_at: UTCDateTime
    updated_at: UTCDateTime
    terminated_at: UTCDateTime | None


class InstanceAccepted(Instance):
    task_id: str


class InstancePage(BaseModel):
    items: list[Instance]
    next_marker: str | None


class ActionAccepted(BaseModel):
    id: str
    status: str
    task_id: str


class ConsoleOutput(BaseModel):
    output: str
    truncated: bool
