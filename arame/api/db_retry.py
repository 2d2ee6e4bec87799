"""A request that met a transient database failure runs again.

Every route is a RetryingRoute: when the handler (its dependencies
included: the token's user is read there) raises a deadlock, a lock wait
timeout or a lost connection (common/db/retry.py), and none of the
request's transactions has committed yet, the whole request runs again
after a jittered backoff, for up to [database] retry_seconds. Once a
transaction has committed, running it again could do the work twice: the
error goes to errors.py, which answers 503 (never 500) and lets
the client's retry, with its Idempotency-Key, decide.
"""

import asyncio

import tenacity
from fastapi import Request
from fastapi.routing import APIRoute

from arame.common.conf import CONF
from arame.common.db import retry


def _replayable(request: Request) -> bool:
    # A streamed body (image upload) was read once and is gone.
    return not getattr(request, "_stream_consumed", False) or (
        getattr(request, "_body", None) is not None
    )


class RetryingRoute(APIRoute):
    def get_route_handler(self):
        handler = super().get_route_handler()

        async def run(request: Request):
            token = retry.count_commits()
            try:
                async for attempt in tenacity.AsyncRetrying(
                    retry=tenacity.retry_if_exception(
                        lambda e: (
                            retry.is_transient(e)
                            and not retry.committed()
                            and _replayable(request)
                        )
                    ),
                    stop=tenacity.stop_after_delay(
                        CONF.database.retry_seconds
                    ),
                    wait=tenacity.wait_random_exponential(
                        multiplier=0.05, max=2.0
                    ),
                    sleep=asyncio.sleep,
                    reraise=True,
                ):
                    with attempt:
                        return await handler(request)
            finally:
                retry.stop_counting(token)

        return run
