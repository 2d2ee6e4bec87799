"""Shapes shared by every resource: names, errors, pages."""

import datetime as dt
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)


def _utc(v: dt.datetime) -> dt.datetime:
    # The database keeps naive UTC; answers say so explicitly.
    return v.replace(tzinfo=dt.UTC) if v.tzinfo is None else v


UTCDateTime = Annotated[dt.datetime, AfterValidator(_utc)]


def _iso_8601(v: Any) -> Any:
    # Lax pydantic reads a bare number as seconds since 1970; the document
    # says `date-time`, so a number is refused rather than guessed at.
    if isinstance(v, int | float) or (
        isinstance(v, str)
        and v.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("expected a date-time such as 2026-12-05T10:00:00Z")
    return v


# A time given in a query string: ISO 8601 only.
QueryDateTime = Annotated[dt.datetime, BeforeValidator(_iso_8601)]


def _whole_number(v: Any) -> Any:
    # JSON Schema, and so the document, counts 5.0 as the integer 5 (a
    # client may well send it so); a fraction, a string or a boolean is
    # still refused by the strict check after this.
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def integer(**bounds: int) -> Any:
    """The type of an integer in a request body, as the document types it,
    within `bounds` (ge=, le=). The bounds go before the conversion so that
    the document shows them as minimum and maximum."""
    return Annotated[int, Field(**bounds), BeforeValidator(_whole_number)]


# What a value of each pattern looks like, in words: a 422 says this
# (arame.api.errors) rather than the expression, which users cannot be
# expected to read. An id's words depend on its field (errors.py).
PATTERN_WORDS: dict[str, str] = {}


def described(pattern: str, words: str, **constraints: Any) -> Any:
    """A pattern constraint whose 422 says `expected <words>`."""
    PATTERN_WORDS[pattern] = words
    return StringConstraints(pattern=pattern, **constraints)


# 1-63 of [A-Za-z0-9._-], starting with a letter or digit, no "..".
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
Name = Annotated[
    str,
    described(
        NAME_PATTERN,
        "a name of 1-63 letters, digits, '.', '_' or '-', starting with a "
        "letter or digit",
    ),
]
# RFC 1123 label, lower case.
HOSTNAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
Hostname = Annotated[
    str,
    described(
        HOSTNAME_PATTERN,
        "a hostname of 1-63 lower-case letters, digits or '-', starting "
        "and ending with a letter or digit",
    ),
]
# arame.common.ids: a kind's prefix, "-", 8 of [a-z0-9]. The words name
# the field's kind (errors.py), so they are not registered here.
ID_PATTERN = r"^[a-z]{1,4}-[a-z0-9]{8}$"
ResourceId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
# A user's label on a resource; lists filter on them (`?tag=a&tag=b`).
TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:=-]{0,62}$"
MAX_TAGS = 50
Tag = Annotated[
    str,
    described(
        TAG_PATTERN,
        "a tag of 1-63 letters, digits, '.', '_', ':', '=' or '-', starting "
        "with a letter or digit",
    ),
]
Tags = Annotated[
    list[Tag],
    Field(max_length=MAX_TAGS, description="labels (duplicates dropped)"),
]


def check_name(v: str | None) -> str | None:
    # Also on optional names (updates): None is "not given", not a name.
    if v is not None and ".." in v:
        raise ValueError("must not contain '..'")
    return v


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, not ignored, and values
    are taken as the document types them (no `0` for false, no `"5"` for
    5; integers are `integer()`, which takes 5.0 as JSON Schema does): what
    a client generated from the OpenAPI document sends."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=False, strict=True
    )


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorBody(BaseModel):
    error: ErrorDetail


class TagsUpdate(Strict):
    """PUT /v1/<resources>/{id}/tags: the new set, replacing the old."""

    tags: Tags


class TagsOut(BaseModel):
    id: str
    tags: list[str]


class Resource(BaseModel):
    id: str
    status: str | None = None
    status_reason: str | None = None
    created_at: UTCDateTime
    updated_at: UTCDateTime


__all__ = [
    "ErrorBody",
    "Field",
    "integer",
    "Hostname",
    "Name",
    "ResourceId",
    "described",
    "Strict",
    "Tag",
    "Tags",
    "TagsOut",
    "TagsUpdate",
    "check_name",
    "field_validator",
]
