"""ASGI middleware: request ids, the body size limit, request metrics."""

import re
import time
import uuid

import prometheus_client

from arame.api.errors import error_response

REQUESTS = prometheus_client.Counter(
    "arame_api_requests_total",
    "HTTP requests answered",
    ["method", "route", "status"],
)
LATENCY = prometheus_client.Histogram(
    "arame_api_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


# Bodies streamed on to where they go (image bytes to a storage node):
# their route bounds them itself, and reading them here would hold them.
STREAMED = re.compile(r"^/v1/images/[^/]+/data$")


class ArameMiddleware:
    def __init__(self, app, max_body: int):
        self.app = app
        self.max_body = max_body

    async def _too_large(self, scope, receive, send):
        resp = error_response(
            413,
            "too_large",
            f"the body is larger than {self.max_body} bytes",
            {"limit": self.max_body},
        )
        await resp(scope, receive, send)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = rid if rid.startswith("req-") else f"req-{uuid.uuid4()}"
        scope.setdefault("state", {})["request_id"] = request_id

        length = headers.get(b"content-length")
        if scope["method"] == "PUT" and STREAMED.match(scope.get("path", "")):
            length, limited_receive = None, receive
        elif (
            length is not None
            and length.isdigit()
            and int(length) > self.max_body
        ):
            return await self._too_large(scope, receive, send)
        elif length is None and scope["method"] in ("POST", "PUT", "PATCH"):
            # A chunked body: read it here, bounded, so that an oversized one
            # is a 413 (a handler's body parser would turn it into a 400).
            chunks, seen, more = [], 0, True
            while more:
                msg = await receive()
                if msg["type"] != "http.request":
                    break
                chunks.append(msg.get("body", b""))
                seen += len(chunks[-1])
                more = msg.get("more_body", False)
                if seen > self.max_body:
                    return await self._too_large(scope, receive, send)
            body = b"".join(chunks)
            replayed = False

            async def limited_receive():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {
                        "type": "http.request",
                        "body": body,
                        "more_body": False,
                    }
                return await receive()
        else:
            limited_receive = receive

        status_holder = {"status": 500}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (b"x-request-id", request_id.encode())
                ]
            await send(message)

        t0 = time.perf_counter()
        try:
            await self.app(scope, limited_receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            LATENCY.labels(scope["method"], path).observe(
                time.perf_counter() - t0
            )
            REQUESTS.labels(
                scope["method"], path, str(status_holder["status"])
            ).inc()
