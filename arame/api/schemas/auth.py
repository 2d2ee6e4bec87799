from pydantic import BaseModel, Field

from arame.api.schemas.common import Strict, UTCDateTime


class TokenRequest(Strict):
    username: str = Field(min_length=1, max_length=63)
    password: str = Field(min_length=1, max_length=1024)


class UserInfo(BaseModel):
    id: str
    username: str
    account_id: str
    role: str


class TokenResponse(BaseModel):
    token: str
    expires_at: UTCDateTime
    user: UserInfo
    account_id: str
    roles: list[str]
