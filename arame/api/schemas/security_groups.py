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
from arame.common import secgroup_rules

RULES_DOC = (
    "Inbound allow rules, one per line: protocol:from,to,source "
    "(tcp:22,22,ip4:0.0.0.0/0; icmp:8,-1,ip4:10.0.0.0/8; "
    "tcp:3306,3306,sg-xxxxxxxx); `#` starts a comment. Members of "
    "a group always reach each other."
)


class Rule(Strict):
    protocol: Literal["tcp", "udp", "icmp"]
    from_port: integer() = Field(
        description="first port, or the icmp type (-1: any)"
    )
    to_port: integer() = Field(
        description="last port, or the icmp code (-1: any)"
    )
    cidr: str | None = Field(default=None, max_length=18)
    group_id: str | None = Field(default=None, max_length=16)


class _Rules(Strict):
    rules_text: str | None = Field(
        default=None,
        max_length=secgroup_rules.MAX_TEXT_LENGTH,
        description=RULES_DOC,
    )
    rules: list[Rule] | None = Field(
        default=None,
        max_length=secgroup_rules.MAX_RULES,
        description="the same rules as a list (give this or rules_text)",
    )


class SecurityGroupCreate(_Rules):
    name: Name
    description: str = Field(default="", max_length=255)
    tags: Tags = Field(default_factory=list)

    _name = field_validator("name")(check_name)


class SecurityGroupUpdate(_Rules):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=255)

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return v if v is None else check_name(v)


class RuleOut(BaseModel):
    protocol: str
    from_port: int
    to_port: int
    cidr: str | None = None
    group_id: str | None = None


class SecurityGroup(BaseModel):
    id: str
    name: str
    account_id: str
    description: str
    rules_text: str
    rules: list[RuleOut]
    tags: list[str] = []
    created_at: UTCDateTime
    updated_at: UTCDateTime


class SecurityGroupUpdated(SecurityGroup):
    # The task that applies the rules on every host with a member.
    task_id: str


class SecurityGroupPage(BaseModel):
    items: list[SecurityGroup]
    next_marker: str | None
