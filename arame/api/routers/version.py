"""GET /v1/version: the API's version, build and features."""

from fastapi import APIRouter, Depends

from arame.api.auth.deps import authorize
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.version import Version
from arame.api.services import version as service

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/version", tags=["version"]
)


@router.get("", response_model=Version)
def get_version(ctxt=Depends(authorize("version:get"))):
    """For any authenticated caller: the SDK's `version()`."""
    return service.get_version(ctxt)
