"""Routers and floating IPs (issue 12)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from arame.api.schemas.common import Name, Strict, UTCDateTime, check_name

# A resource by id or by name.
Ref = Annotated[str, StringConstraints(min_length=1, max_length=63)]
Address = Annotated[str, StringConstraints(min_length=1, max_length=45)]
MAX_ROUTER_NETWORKS = 16


class RouterCreate(Strict):
    name: Name
    external_network: Ref | None = Field(
        default=None,
        description="the external network (id or name) the router reaches "
        "the outside through (SNAT on an address of its pool)",
    )
    networks: list[Ref] = Field(
        default_factory=list,
        max_length=MAX_ROUTER_NETWORKS,
        description="networks of the account (ids or names) the router "
        "joins; they route to each other",
    )

    _name = field_validator("name")(check_name)


class RouterUpdate(Strict):
    """What changes; `external_network: null` takes the gateway away,
    `networks` is the whole new list."""

    name: Name | None = None
    external_network: Ref | None = None
    networks: list[Ref] | None = Field(
        default=None, max_length=MAX_ROUTER_NETWORKS
    )

    _name = field_validator("name")(check_name)


class RouterNetwork(BaseModel):
    id: str
    cidr: str
    address: str = Field(description="the router's address there")


class Router(BaseModel):
    id: str
    name: str
    account_id: str
    status: Literal["active", "building", "error", "deleting"]
    error: str | None
    host: str | None
    external_network: str | None
    external_address: str | None
    networks: list[RouterNetwork]
    floating_ips: int = Field(
        description="floating IPs associated through this router"
    )
    task_id: str | None = Field(
        default=None, description="the task applying the change"
    )
    created_at: UTCDateTime
    updated_at: UTCDateTime


class RouterPage(BaseModel):
    items: list[Router]
    next_marker: str | None


class RouterTask(BaseModel):
    id: str
    task_id: str


class FloatingIpCreate(Strict):
    network: Ref = Field(description="the external network (id or name)")
    address: Address | None = Field(
        default=None,
        description="a given address of the network's pool; default: a "
        "free one",
    )


class Associate(Strict):
    instance: Ref = Field(description="an instance of the account")
    ip_address: Address | None = Field(
        default=None,
        description="which of its addresses (default: its first)",
    )


class Disassociate(Strict):
    pass


class FloatingIpAction(Strict):
    """Exactly one of associate or disassociate."""

    associate: Associate | None = None
    disassociate: Disassociate | None = None


class FloatingIp(BaseModel):
    id: str
    address: str
    network_id: str
    account_id: str
    instance_id: str | None
    fixed_address: str | None
    router_id: str | None
    status: Literal["down", "active"] = Field(
        description="active: associated with an instance's address"
    )
    task_id: str | None = Field(
        default=None, description="the task applying the change"
    )
    created_at: UTCDateTime
    updated_at: UTCDateTime


class FloatingIpPage(BaseModel):
    items: list[FloatingIp]
    next_marker: str | None
