"""Liveness, readiness and metrics: no auth, for load balancers and scrapers."""

import prometheus_client
import sqlalchemy as sa
from fastapi import APIRouter, Response

from arame.api.db_retry import RetryingRoute
from arame.api.errors import error_response
from arame.common.db import engine as db_engine
from arame.common.rpc import probe

router = APIRouter(route_class=RetryingRoute, tags=["health"])


@router.get("/healthz")
def healthz():
    return {"status": "ok"}


@router.get("/readyz")
def readyz():
    checks = {}
    try:
        with db_engine.get_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as e:
        checks["database"] = f"unreachable: {type(e).__name__}"
    checks["bus"] = probe.check_bus()
    if all(v == "ok" for v in checks.values()):
        return {"status": "ok", "checks": checks}
    return error_response(503, "service_unavailable", "not ready", checks)


# Prometheus' text format: the document says so (text/plain), so that a
# client generated from it does not expect JSON; errors stay JSON.
@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus' text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def metrics():
    return Response(
        prometheus_client.generate_latest(),
        media_type=prometheus_client.CONTENT_TYPE_LATEST,
    )
