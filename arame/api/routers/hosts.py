from fastapi import APIRouter, Depends

from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.hosts import HostPage
from arame.api.services import hosts as host_service

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/hosts", tags=["hosts"]
)


@router.get("", response_model=HostPage)
def list_hosts(ctxt=Depends(authorize("hosts:list"))):
    return host_service.list_hosts(ctxt)
