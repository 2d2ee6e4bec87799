from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from arame.api.schemas.common import (
    Name,
    Strict,
    Tags,
    UTCDateTime,
    check_name,
    described,
    integer,
)

# RFC 1035 name made of RFC 1123 labels (a label may start with a digit);
# no trailing dot. Lower-cased on the way in.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DNS_DOMAIN_PATTERN = rf"^{_LABEL}(\.{_LABEL})*$"
DnsDomain = Annotated[
    str, StringConstraints(pattern=DNS_DOMAIN_PATTERN, max_length=253)
]
Address = Annotated[str, StringConstraints(min_length=1, max_length=45)]
PHYSICAL_NETWORK_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
PhysicalNetwork = Annotated[
    str,
    described(
        PHYSICAL_NETWORK_PATTERN,
        "a physical network name of 1-32 lower-case letters, digits, '_' "
        "or '-', starting with a letter (such as public)",
    ),
]
# [first, last] as a two-item array of one item type: a tuple would be
# `prefixItems`, which most OpenAPI client generators still reject.
AddressRange = Annotated[list[Address], Field(min_length=2, max_length=2)]


class NetworkCreate(Strict):
    name: Name
    cidr: str = Field(
        min_length=1,
        max_length=49,
        description="IPv4 network, /16 to /29 by default",
    )
    gateway: Address | None = Field(
        default=None, description="default: the first host address"
    )
    dns_domain: DnsDomain
    dhcp_ranges: list[AddressRange] | None = Field(
        default=None,
        min_length=1,
        max_length=16,
        description="[[first, last], ...] inside the cidr, without the "
        "gateway; default: every host address but the gateway",
    )
    segmentation: Literal["vxlan", "vlan", "flat"] = Field(
        description="flat: external networks only (no segment id)"
    )
    segment_id: integer(ge=1, le=16777215) | None = Field(
        default=None,
        description="VXLAN VNI or VLAN id (1-4094); default: a free one",
    )
    shared: bool = Field(
        default=False, description="usable by every account (admin only)"
    )
    external: bool = Field(
        default=False,
        description="a routers' way out (admin only): its dhcp_ranges are "
        "the floating IP pool; listed to every account, no instance joins "
        "it, no DHCP",
    )
    physical_network: PhysicalNetwork | None = Field(
        default=None,
        description="external networks (required there): the name the "
        "network hosts map to a device ([l3] physical_networks)",
    )
    mtu: integer(ge=576, le=9000) | None = Field(
        default=None,
        description="default: 1450 on VXLAN, 1500 on VLAN",
    )
    tags: Tags = Field(default_factory=list)

    _name = field_validator("name")(check_name)

    @field_validator("dns_domain")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()


class Network(BaseModel):
    id: str
    name: str
    account_id: str
    shared: bool
    ip_version: int
    cidr: str
    gateway: str
    dns_domain: str
    dhcp_ranges: list[Annotated[list[str], Field(min_length=2, max_length=2)]]
    segmentation: str
    segment_id: int | None
    mtu: int
    external: bool
    physical_network: str | None
    dhcp_address: str | None = Field(
        description="where the DHCP server listens; null: on the gateway "
        "(a network made before routers, or one with no address left; "
        "it cannot join a router)"
    )
    tags: list[str] = []
    created_at: UTCDateTime
    updated_at: UTCDateTime


class NetworkPage(BaseModel):
    items: list[Network]
    next_marker: str | None
