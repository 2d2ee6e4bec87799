"""(being built: see the unit-groups issue)"""

from fastapi import APIRouter

from arame.api.db_retry import RetryingRoute

router = APIRouter(route_class=RetryingRoute)
