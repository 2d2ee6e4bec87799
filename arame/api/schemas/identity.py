from typing import Literal

from pydantic import BaseModel, Field, field_validator

from arame.api.schemas.common import Name, Strict, UTCDateTime, check_name

Role = Literal["admin", "member", "reader"]
Password = Field(min_length=8, max_length=1024)


class AccountCreate(Strict):
    name: Name

    _name = field_validator("name")(check_name)


class AccountUpdate(Strict):
    name: Name | None = None
    enabled: bool | None = None

    _name = field_validator("name")(check_name)


class Account(BaseModel):
    id: str
    name: str
    enabled: bool
    created_at: UTCDateTime
    updated_at: UTCDateTime


class AccountPage(BaseModel):
    items: list[Account]
    next_marker: str | None


class UserCreate(Strict):
    username: Name
    password: str = Password
    account_id: str = Field(pattern=r"^a-[a-z0-9]{1,8}$", max_length=16)
    role: Role = "member"

    _name = field_validator("username")(check_name)


class UserUpdate(Strict):
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    role: Role | None = None
    enabled: bool | None = None


class User(BaseModel):
    id: str
    username: str
    account_id: str
    role: str
    enabled: bool
    created_at: UTCDateTime
    updated_at: UTCDateTime


class UserPage(BaseModel):
    items: list[User]
    next_marker: str | None
