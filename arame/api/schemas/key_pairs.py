from typing import Literal

from pydantic import BaseModel, Field, field_validator

from arame.api.schemas.common import Name, Strict, UTCDateTime, check_name


class KeyPairCreate(Strict):
    name: Name
    public_key: str | None = Field(default=None, max_length=16 * 1024)
    type: Literal["ed25519", "rsa"] = "ed25519"

    _name = field_validator("name")(check_name)


class KeyPair(BaseModel):
    id: str
    name: str
    account_id: str
    type: str
    public_key: str
    fingerprint: str
    created_at: UTCDateTime
    updated_at: UTCDateTime


class KeyPairCreated(KeyPair):
    # Only when the pair was generated: returned this once, never stored.
    private_key: str | None = None


class KeyPairPage(BaseModel):
    items: list[KeyPair]
    next_marker: str | None
