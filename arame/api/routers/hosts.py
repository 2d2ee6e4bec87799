"""/v1/hosts: the machines of the cloud (admin); a hypervisor host taken
out of service and put back (arame/api/services/hosts.py)."""

from fastapi import APIRouter, Depends

from arame.api import errors
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.hosts import HostInfo, HostPage, HostUpdate
from arame.api.services import hosts as host_service

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/hosts", tags=["hosts"]
)


@router.get("", response_model=HostPage)
def list_hosts(ctxt=Depends(authorize("hosts:list"))):
    return host_service.list_hosts(ctxt)


@router.get("/{host_ref}", response_model=HostInfo)
def get_host(host_ref: str, ctxt=Depends(authorize("hosts:show"))):
    """By id or name; a machine with only daemons has its hypervisor
    fields null."""
    return host_service.get_host(ctxt, host_ref)


@router.patch(
    "/{host_ref}",
    response_model=HostInfo,
    responses={
        **errors.SERVICE_RULES,
        **errors.refused(409, "the machine runs no hypervisor (only daemons)"),
    },
)
def update_host(
    host_ref: str,
    body: HostUpdate,
    ctxt=Depends(authorize("hosts:update")),
):
    """Disable or enable a hypervisor host, put it in maintenance or take
    it out: either way it gets no new instances and keeps its guests. The
    same values again answer 200 and change nothing."""
    return host_service.update_host(ctxt, host_ref, body)
