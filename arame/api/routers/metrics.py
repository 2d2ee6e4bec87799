"""An instance's recent metrics (CPU, memory, disk, network), from the
hypervisor agent that runs it."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from arame.api import errors
from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.metrics import InstanceMetrics
from arame.api.services.metrics import MetricsService

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/instances", tags=["instances"]
)
service = MetricsService()


@router.get(
    "/{instance_id}/metrics",
    response_model=InstanceMetrics,
    responses=errors.refused(
        422,
        "`since` is neither a date-time nor a number of seconds before now",
    ),
)
def instance_metrics(
    instance_id: str,
    since: Annotated[
        str | None,
        Query(
            max_length=64,
            description="only the samples after this: an ISO 8601 "
            "date-time (UTC when it names no zone) or a number of seconds "
            "before now (`600`: the last ten minutes); default: every "
            "sample the host keeps ([hva] metrics_retention)",
        ),
    ] = None,
    ctxt=Depends(authorize("instances:metrics")),
):
    """The samples the instance's hypervisor agent took every [hva]
    metrics_interval, oldest first. 409 while the instance runs on no host;
    503 (naming the host) when its agent does not answer."""
    return service.instance_metrics(ctxt, instance_id, since)
