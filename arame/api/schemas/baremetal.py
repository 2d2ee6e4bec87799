"""Bare-metal nodes (admin). The BMC password is write-only: it is in the
requests, never in an answer."""

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from arame.api.schemas.common import (
    Name,
    Strict,
    UTCDateTime,
    check_name,
    integer,
)

Mac = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$", to_lower=True
    ),
]
# The agent checks them again (arame.agents.bma.checks) before ipmitool.
BmcAddress = Annotated[str, StringConstraints(min_length=1, max_length=253)]
BmcUser = Annotated[str, StringConstraints(min_length=1, max_length=16)]
BmcPassword = Annotated[str, StringConstraints(min_length=1, max_length=20)]
Interface = Literal["lanplus", "lan"]
Macs = Annotated[
    list[Mac],
    Field(
        min_length=1,
        max_length=8,
        description="the node's NICs; the first is the one it PXE-boots from",
        # Twins are refused (below, after lower-casing).
        json_schema_extra={"uniqueItems": True},
    ),
]


def _distinct(v: list[str] | None) -> list[str] | None:
    if v is not None and len(set(v)) != len(v):
        raise ValueError("a MAC appears twice")
    return v


# Both bodies type their numbers alike; an update gives any of them.
Port = integer(ge=1, le=65535)
Count = integer(ge=1)
# A field of an update may be left out, never null: the document says so
# (no null in its type, no null default), the service refuses null.
Unset = SkipJsonSchema[None]


def _no_null_default(schema: dict) -> None:
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class NodeCreate(Strict):
    name: Name
    bmc_address: BmcAddress
    bmc_port: Port = 623
    bmc_username: BmcUser
    bmc_password: BmcPassword = Field(json_schema_extra={"writeOnly": True})
    bmc_interface: Interface = "lanplus"
    macs: Macs
    cpus: Count
    memory_mb: Count
    disk_gb: Count
    resource_class: Name | None = Field(
        default=None,
        description="the bm flavor this node serves (default: "
        "any bm flavor it fits)",
    )
    bma_host: str | None = Field(
        default=None,
        max_length=255,
        description="the bare-metal agent that drives its BMC (default: "
        "the first one up, chosen by its first task)",
    )

    _name = field_validator("name")(check_name)
    _macs = field_validator("macs")(_distinct)


class NodeUpdate(Strict):
    """Only while the node holds no instance (not deploying/active/cleaning)."""

    model_config = ConfigDict(json_schema_extra=_no_null_default)

    name: Name | Unset = None
    bmc_address: BmcAddress | Unset = None
    bmc_port: Port | Unset = None
    bmc_username: BmcUser | Unset = None
    bmc_password: BmcPassword | Unset = Field(
        default=None, json_schema_extra={"writeOnly": True}
    )
    bmc_interface: Interface | Unset = None
    macs: Macs | Unset = None
    cpus: Count | Unset = None
    memory_mb: Count | Unset = None
    disk_gb: Count | Unset = None
    resource_class: Name | Unset = None

    _name = field_validator("name")(check_name)
    _macs = field_validator("macs")(_distinct)


class ManageNode(Strict):
    action: Literal["manage"]


class ProvideNode(Strict):
    action: Literal["provide"]


class NodeMaintenance(Strict):
    action: Literal["maintenance"]
    on: bool
    reason: str | None = Field(default=None, max_length=255)


NodeAction = Annotated[
    ManageNode | ProvideNode | NodeMaintenance, Field(discriminator="action")
]


class Node(BaseModel):
    id: str
    name: str
    bmc_address: str
    bmc_port: int
    bmc_username: str
    bmc_interface: str
    bma_host: str | None
    macs: list[str]
    cpus: int
    memory_mb: int
    disk_gb: int
    resource_class: str | None
    provision_state: str
    status: str = Field(description="the same as provision_state")
    status_reason: str | None
    maintenance: bool
    maintenance_reason: str | None
    power_state: str | None
    instance_id: str | None
    created_at: UTCDateTime
    updated_at: UTCDateTime


class NodeAccepted(Node):
    task_id: str | None = Field(
        description="the task of manage/provide; null for maintenance, "
        "which changes only the record"
    )


class NodePage(BaseModel):
    items: list[Node]
    next_marker: str | None
