"""One authenticated HTTP conversation with the API.

Everything that knows about status codes, headers and the error envelope lives
here, so resource managers only deal in paths and JSON.
"""

from __future__ import annotations

from typing import Any

import httpx

from arame.sdk.errors import ArameError, ConnectionFailed

# Long enough to tell a proxy's HTML error page apart, short enough for a
# terminal line.
_MAX_BODY_EXCERPT = 200


class Session:
    def __init__(
        self,
        endpoint: str,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self._http = httpx.Client(
            base_url=self.endpoint,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "arame-sdk"},
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        authenticated: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """Send a request; return the decoded JSON body or raise ArameError."""
        headers = dict(headers or {})
        if authenticated and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if params:
            # Unset filters are simply not sent, rather than sent as "None".
            params = {k: v for k, v in params.items() if v is not None}
        try:
            response = self._http.request(
                method,
                path,
                json=json,
                params=params or None,
                headers=headers,
                timeout=httpx.USE_CLIENT_DEFAULT
                if timeout is None
                else timeout,
            )
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"cannot reach {self.endpoint}: {str(exc) or type(exc).__name__}"
            ) from exc
        if response.is_success:
            return _decode_success(response)
        raise error_from_response(response)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)


def _decode_success(response: httpx.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        raise ArameError(
            response.status_code,
            "invalid_response",
            f"expected JSON from {response.request.method} {response.request.url.path}, "
            f"got: {_excerpt(response)}",
        ) from None


def error_from_response(response: httpx.Response) -> ArameError:
    """Turn a non-2xx answer into an ArameError, whatever its body looks like."""
    status = response.status_code
    # A proxy or a crashed worker may answer with HTML or nothing at all; the
    # reason phrase then stands in for the machine code.
    fallback_code = (
        response.reason_phrase.lower().replace(" ", "_") or f"http_{status}"
    )
    try:
        envelope = response.json()["error"]
        code = str(envelope.get("code") or fallback_code)
        message = str(envelope.get("message") or response.reason_phrase)
        details = envelope.get("details")
        return ArameError(
            status, code, message, details if isinstance(details, dict) else {}
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        message = (
            _excerpt(response) or response.reason_phrase or f"HTTP {status}"
        )
        return ArameError(status, fallback_code, message)


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    if len(text) > _MAX_BODY_EXCERPT:
        text = text[:_MAX_BODY_EXCERPT] + "..."
    return text
