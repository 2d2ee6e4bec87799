"""/v1/hosts/{id}/bmc: the BMC through which the scheduler cuts a down
hypervisor host's power before evacuating it (admin;
arame/api/services/host_bmc.py)."""

from fastapi import APIRouter, Depends, Response

from arame.api import errors
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.host_bmc import HostBmc, HostBmcSet
from arame.api.services import host_bmc as service

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/hosts", tags=["hosts"]
)


@router.get("/{host_ref}/bmc", response_model=HostBmc)
def get_host_bmc(host_ref: str, ctxt=Depends(authorize("hosts:show"))):
    """The host's BMC, without its password; `configured: false` when
    it has none (fencing then revokes its storage access only)."""
    return service.get_bmc(ctxt, host_ref)


@router.put(
    "/{host_ref}/bmc",
    response_model=HostBmc,
    # The address's form (an IP or a host name) is checked by the service,
    # as for bare-metal nodes: the schema cannot say it.
    responses=errors.SERVICE_RULES,
)
def set_host_bmc(
    host_ref: str,
    body: HostBmcSet,
    ctxt=Depends(authorize("hosts:set_bmc")),
):
    """Set (or replace) the host's BMC. The password is sealed at rest
    and never returned."""
    return service.set_bmc(ctxt, host_ref, body)


@router.delete("/{host_ref}/bmc", status_code=204)
def delete_host_bmc(host_ref: str, ctxt=Depends(authorize("hosts:set_bmc"))):
    """Forget the host's BMC; absent is done."""
    service.delete_bmc(ctxt, host_ref)
    return Response(status_code=204)
