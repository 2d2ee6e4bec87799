"""The request context: who asked, carried over every RPC call and cast."""

import dataclasses
import uuid
from typing import Any


@dataclasses.dataclass(frozen=True)
class RequestContext:
    request_id: str = dataclasses.field(
        default_factory=lambda: "req-" + str(uuid.uuid4())
    )
    account_id: str | None = None
    user_id: str | None = None
    roles: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["roles"] = list(self.roles)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RequestContext":
        known = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in (d or {}).items() if k in known}
        kw["roles"] = tuple(kw.get("roles") or ())
        return cls(**kw)


def admin_context() -> RequestContext:
    """Context of the controller itself (reaper, heartbeats, resync)."""
    return RequestContext(account_id="a-admin", user_id=None, roles=("admin",))


# What a client proxy takes as its context: a RequestContext, or the empty
# dict that periodic jobs and notifications pass (the serializer sends both).
RpcContext = RequestContext | dict[str, Any]
