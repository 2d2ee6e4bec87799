"""PUT /v1/instances/{id}/security_groups: replace an instance's groups,
applied live on its host."""

from fastapi import APIRouter, Depends

from arame.api import errors
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.instance_security_groups import (
    InstanceSecurityGroupsUpdate,
    InstanceSecurityGroupsUpdated,
)
from arame.api.services.instance_security_groups import (
    RULE,
    InstanceSecurityGroupService,
)

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/instances", tags=["instances"]
)
service = InstanceSecurityGroupService()


@router.put(
    "/{instance_id}/security_groups",
    status_code=202,
    response_model=InstanceSecurityGroupsUpdated,
    responses={
        **errors.SERVICE_RULES,
        **errors.refused(
            409,
            "the instance is being built or deleted: its groups change "
            "once it is running or stopped",
        ),
    },
)
def replace_instance_security_groups(
    instance_id: str,
    body: InstanceSecurityGroupsUpdate,
    ctxt=Depends(authorize(RULE)),
):
    """The instance's groups become exactly these (1 to 5, of its account;
    422 naming one that is not); a task applies them on its host and
    tells the hosts of the groups' other members."""
    return service.replace(ctxt, instance_id, body.security_groups)
