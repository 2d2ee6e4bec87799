"""POST /v1/hosts/{id}/evacuate (admin): rebuild a down host's ha
instances elsewhere (arame/api/services/evacuation.py)."""

from fastapi import APIRouter, Depends

from arame.api import errors
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.host_evacuation import EvacuationAccepted
from arame.api.services.evacuation import service

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/hosts", tags=["hosts"]
)


@router.post(
    "/{host_ref}/evacuate",
    status_code=202,
    response_model=EvacuationAccepted,
    responses={
        **errors.refused(
            409,
            "the host is up (it reported within service_down_time), is no "
            "hypervisor, or cannot be fenced (a storage node exporting to "
            "it is down)",
        ),
    },
)
def evacuate_host(host_ref: str, ctxt=Depends(authorize("hosts:evacuate"))):
    """Fence the host (its storage initiator revoked on every storage
    node, its power cut where a BMC is configured) and rebuild each of its
    `ha_enabled` instances on another host: one task per instance, the
    same id, addresses, MACs, security groups and keys. Other instances
    are put in `error`, saying why. Asking again while it is evacuated
    adds no task: the body lists the running ones with `new` false."""
    return service.evacuate(ctxt, host_ref)
