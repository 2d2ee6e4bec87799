from pydantic import BaseModel, Field

from arame.api.schemas.common import Name, Strict


class InstanceSecurityGroupsUpdate(Strict):
    """PUT /v1/instances/{id}/security_groups: the whole new set."""

    security_groups: list[Name] = Field(
        min_length=1,
        max_length=5,
        description="groups of the instance's account, by id or name, "
        "in the order the instance is to have them",
    )


class InstanceSecurityGroupsUpdated(BaseModel):
    id: str
    security_groups: list[str] = Field(
        description="the groups' ids, in the order given"
    )
    task_id: str = Field(
        description="the task applying them on the instance's host"
    )
