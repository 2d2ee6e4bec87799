from fastapi import APIRouter, Depends

from arame.api.auth.deps import get_context
from arame.api.db_retry import RetryingRoute
from arame.api.schemas.quotas import Quota, QuotaUpdate
from arame.api.services import quotas

router = APIRouter(
    route_class=RetryingRoute, prefix="/v1/quotas", tags=["quotas"]
)


@router.get("/{account_id}", response_model=Quota)
def get_quota(account_id: str, ctxt=Depends(get_context)):
    return quotas.get(ctxt, account_id)


# PUT and PATCH alike change only the limits the body names (null: back to
# the cloud's default).
@router.put("/{account_id}", response_model=Quota)
def update_quota(
    account_id: str, body: QuotaUpdate, ctxt=Depends(get_context)
):
    return quotas.update(ctxt, account_id, body)


@router.patch("/{account_id}", response_model=Quota)
def patch_quota(account_id: str, body: QuotaUpdate, ctxt=Depends(get_context)):
    return quotas.update(ctxt, account_id, body)
