from fastapi import APIRouter

from arame.api.db_retry import RetryingRoute
from arame.api.schemas.auth import TokenRequest, TokenResponse
from arame.api.services import auth as auth_service

router = APIRouter(route_class=RetryingRoute, prefix="/v1/auth", tags=["auth"])


@router.post("/tokens", status_code=201, response_model=TokenResponse)
def create_token(body: TokenRequest):
    return auth_service.login(body.username, body.password)
