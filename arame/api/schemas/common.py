"""Shapes shared by every resource: names, errors, pages."""

import datetime as dt
from typing import Annotated, Any

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field,
                      StringConstraints, field_validator)


def _utc(v: dt.datetime) -> dt.datetime:
    # The database keeps naive UTC; answers say so explicitly.
    return v.replace(tzinfo=dt.timezone.utc) if v.tzinfo is None else v


UTCDateTime = Annotated[dt.datetime, AfterValidator(_utc)]

# API.md: 1-63 of [A-Za-z0-9._-], starting with a letter or digit, no "..".
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
# RFC 1123 label, lower case.
HOSTNAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
Hostname = Annotated[str, StringConstraints(pattern=HOSTNAME_PATTERN)]
ResourceId = Annotated[str, StringConstraints(pattern=r"^[a-z]{1,4}-[a-z0-9]{8}$")]


def check_name(v: str) -> str:
    if ".." in v:
        raise ValueError("must not contain '..'")
    return v


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, not ignored."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorBody(BaseModel):
    error: ErrorDetail


class Resource(BaseModel):
    id: str
    status: str | None = None
    status_reason: str | None = None
    created_at: UTCDateTime
    updated_at: UTCDateTime


__all__ = ["Name", "Hostname", "ResourceId", "Strict", "ErrorBody", "Field",
           "field_validator", "check_name"]
