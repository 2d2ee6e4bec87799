"""Unit groups, units and their actions (the VCP workflow)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from arame.api.schemas.common import (
    Name,
    Strict,
    UTCDateTime,
    check_name,
    described,
    integer,
)

# A unit's nodes are named `<unit>-<n>`: room left for the number.
UnitName = Annotated[
    str,
    described(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$",
        "a unit name of 1-48 letters, digits, '.', '_' or '-', starting "
        "with a letter or digit",
    ),
]
# An id or a name: what the caller can see resolves it (422 if ambiguous).
Ref = Annotated[str, StringConstraints(min_length=1, max_length=63)]
IpAddress = Annotated[str, StringConstraints(min_length=2, max_length=45)]
MAX_NODES = 100


class UnitSpec(Strict):
    provider: Literal["vm", "bm"] = "vm"
    flavor: Name
    image: Ref
    root_gb: integer(ge=1, le=65536) | None = None
    network: Ref | None = None
    security_groups: list[Ref] | None = Field(default=None, max_length=5)
    key_pairs: list[Ref] = Field(default_factory=list, max_length=10)
    user_data: str | None = Field(default=None, max_length=4 * 1024 * 1024)
    ha_enabled: bool = True


class UnitGroupCreate(Strict):
    name: Name

    _name = field_validator("name")(check_name)


class UnitGroup(BaseModel):
    id: str
    name: str
    account_id: str
    state: Literal["booting", "running", "power_off", "error", "deleting"]
    units: list[str]
    node_count: int
    created_at: UTCDateTime
    updated_at: UTCDateTime


class UnitGroupPage(BaseModel):
    items: list[UnitGroup]
    next_marker: str | None


class UnitCreate(Strict):
    unit_group: Ref
    name: UnitName
    spec: UnitSpec
    count: integer(ge=0, le=MAX_NODES) | None = None
    ip_addresses: list[IpAddress] | None = Field(
        default=None,
        max_length=MAX_NODES,
        description="one fixed address per node (count is then its length)",
    )

    _name = field_validator("name")(check_name)


class UnitUpdate(Strict):
    name: UnitName | None = None

    _name = field_validator("name")(check_name)


class Node(BaseModel):
    id: str
    name: str
    status: str
    status_reason: str | None
    power_state: str | None
    host: str | None
    ip_address: str | None = Field(description="the first address")
    addresses: list[str]
    created_at: UTCDateTime


class NodeError(BaseModel):
    node_id: str
    name: str
    reason: str | None


class Unit(BaseModel):
    id: str
    name: str
    unit_group: str
    unit_group_name: str
    account_id: str
    spec: dict
    state: Literal["booting", "running", "power_off", "error", "deleting"]
    node_count: int
    nodes: list[Node]
    errors: list[NodeError]
    created_at: UTCDateTime
    updated_at: UTCDateTime


class UnitAccepted(Unit):
    task_id: str


class UnitPage(BaseModel):
    items: list[Unit]
    next_marker: str | None


class UnitAction(Strict):
    action: Literal["add_nodes", "delete_nodes", "power_on", "power_off"]
    count: integer(ge=1, le=MAX_NODES) | None = None
    ip_addresses: list[IpAddress] | None = Field(
        default=None, min_length=1, max_length=MAX_NODES
    )
    node_ids: list[Ref] | None = Field(
        default=None, min_length=1, max_length=MAX_NODES
    )


class UnitActionAccepted(BaseModel):
    id: str
    task_id: str
    node_ids: list[str]


class Deleting(BaseModel):
    id: str
    status: Literal["deleting"]
    task_id: str
