"""The dashboard: arame/web's static files under /ui/, and `/` sending
browsers there.

The pages are plain files talking to the public REST API with the user's
bearer token (no server-side session, no private routes), so serving them
is all the API does for them. Every answer under /ui/ carries a strict
Content-Security-Policy: the files hold no inline script or style, so a
page can run nothing but its own modules even if a name or a console log
it shows carries markup.
"""

import pathlib

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from arame.api.errors import error_response

WEB_ROOT = pathlib.Path(__file__).resolve().parent.parent / "web"
PREFIX = "/ui"

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    # Revalidated each load (an ETag answers 304): a new release's files
    # are seen at once, and the files are small.
    (b"cache-control", b"no-cache"),
)


class _Secured:
    """The static files with the dashboard's headers on every answer
    (a 304 and a 404 included)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    *HEADERS
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except HTTPException as exc:
            # Answered here, not by the app's handlers, so that the error
            # carries the headers too (in the API's error shape).
            await _error(scope, exc)(scope, receive, send_with_headers)


def _error(scope, exc: HTTPException):
    if exc.status_code == 405:
        return error_response(
            405,
            "method_not_allowed",
            f"{scope['method']} is not allowed here; allowed: GET, HEAD",
            headers={"Allow": "GET, HEAD"},
        )
    return error_response(
        exc.status_code,
        "not_found" if exc.status_code == 404 else "error",
        f"no such path: {scope['path']}",
    )


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def mount(app: FastAPI) -> None:
    """Serve the dashboard from `app` (called by create_app)."""
    app.mount(
        PREFIX,
        _Secured(StaticFiles(directory=WEB_ROOT, html=True)),
        name="ui",
    )

    @app.get("/", include_in_schema=False)
    def root(request: Request):
        # A browser opening the printed URL lands on the dashboard; a
        # program asking for / still gets the API's 404 in its shape.
        if _wants_html(request):
            return RedirectResponse(PREFIX + "/", status_code=303)
        return error_response(404, "not_found", "no such path: /")
