"""Every error leaves the API in one shape (doc/source/architecture/rest.rst):
{"error": {"code", "message", "details"}} with a 4xx status; a 5xx is a bug
(or, 503, a dependency that is down)."""

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from oslo_log import log
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from arame.api.schemas import common, networks
from arame.api.schemas.common import ErrorBody
from arame.common import exceptions, ids
from arame.common.db import retry as db_retry

LOG = log.getLogger(__name__)

# -- what the document says about errors --------------------------------------
# Every operation may answer these (the app declares them once); each says
# when, in the document and in the rendered API reference.
ANY = {
    400: "malformed: the body is not JSON, or not JSON where JSON is due",
    401: "no token, or one that is unknown or expired",
    403: "the policy does not let this caller do this",
    404: "no such resource (or not visible to this caller)",
    409: "the resource's state or a name already taken forbids it now",
    413: "the body is larger than [api] max_request_body_bytes",
    422: "the request does not match the schema; `details.fields` names "
    "each field and why",
    429: "over a quota of the account",
    503: "a dependency (database, bus, a storage node) is not reachable; "
    "try again",
}

# Marks a status that a request matching the schema may still get for a
# reason the schema cannot state (an unknown marker, a rule across fields,
# a reference to a missing resource). The fuzz test
# (tests/functional/test_schemathesis.py) accepts it for valid input on
# that operation only.
VALID_INPUT_REFUSED = "x-arame-valid-input-refused"


def documented(statuses: dict[int, str]) -> dict:
    """FastAPI's `responses=` for {status: when}: the error body each."""
    return {
        code: {"model": ErrorBody, "description": when}
        for code, when in statuses.items()
    }


def refused(code: int, when: str) -> dict:
    """`responses=` entry for a status schema-valid input may get."""
    return {
        code: {
            "model": ErrorBody,
            "description": when,
            VALID_INPUT_REFUSED: True,
        }
    }


# The shared entries of the routes.
UNKNOWN_MARKER = refused(
    400, "`marker` is not an item of this list (as this caller sees it)"
)
SERVICE_RULES = refused(
    422,
    "the request does not match the schema, or matches it but breaks a "
    "rule the service checks (named in the message and `details.field`): "
    "a reference to a missing resource, fields that exclude each other, a "
    "value the schema cannot describe",
)
IDEMPOTENCY_REUSED = refused(
    422,
    "the request does not match the schema, or its Idempotency-Key was "
    "used for a different request (within 24 h), or it breaks a rule the "
    "service checks (named in the message and `details.field`)",
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "over_quota",
    503: "service_unavailable",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict | None = None,
    headers=None,
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        headers=headers,
        content={
            "error": {
                "code": code,
                "message": message,
                "details": details or {},
            }
        },
    )


class ServiceUnavailable(exceptions.ArameError):
    """A dependency of this request is not reachable; try again."""

    status, code = 503, "service_unavailable"


def _field(loc) -> str:
    parts = [
        str(p)
        for p in loc
        if p not in ("body", "query", "path", "header") and not _union_tag(p)
    ]
    return ".".join(parts) or "body"


# The type names pydantic puts in `loc` for a member of a union
# (`name.constrained-str`): not a field the user wrote.
_BARE_TYPES = frozenset({"none", "str", "int", "float", "bool", "list"})


def _union_tag(part) -> bool:
    return isinstance(part, str) and (
        part in _BARE_TYPES or any(c in part for c in "-[(")
    )


# The patterns of schemas written before common.described(), in words;
# tests/unit/api/test_validation_words.py fails on a pattern in the
# document that has none.
OTHER_PATTERN_WORDS = {
    networks.DNS_DOMAIN_PATTERN: "a DNS domain such as cloud.example: "
    "labels of letters, digits and '-' joined by '.'",
    r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$": "a MAC address such as "
    "52:54:00:12:34:56",
    r"^a-[a-z0-9]{1,8}$": "an account id such as a-1a2b3c4d",
    r"^[0-9a-f]{64}$": "a SHA-256 digest: 64 lower-case hexadecimal digits",
}


def pattern_words(pattern: str) -> str | None:
    return common.PATTERN_WORDS.get(pattern) or OTHER_PATTERN_WORDS.get(
        pattern
    )


# Fields whose ids are of another kind than their name says: a unit's
# nodes are instances.
_ID_KINDS = {"node": "instance"}


def _id_kind(field: str) -> str | None:
    # `security_groups` -> security_group, `volume_id` -> volume.
    base = field.removesuffix("_ids").removesuffix("_id")
    for kind in (base, base.removesuffix("s")):
        kind = _ID_KINDS.get(kind, kind)
        if kind in ids.PREFIXES:
            return kind
    return None


def _id_words(loc) -> str:
    """`an image id such as img-1a2b3c4d`, the kind taken from the field."""
    for part in reversed(loc):
        kind = _id_kind(part) if isinstance(part, str) else None
        if kind is not None:
            words = kind.replace("_", " ")
            # "a unit", "an image": no kind starts with a vowel sound but
            # a, e, i, o.
            article = "an" if words[0] in "aeio" else "a"
            return (
                f"{article} {words} id such as {ids.PREFIXES[kind]}-1a2b3c4d"
            )
    return "an id such as i-1a2b3c4d: a prefix, '-' and 8 letters or digits"


def validation_message(error: dict) -> str:
    """One pydantic error as the 422 says it: pydantic's own words, except
    that a pattern is described, never shown."""
    if error.get("type") != "string_pattern_mismatch":
        return error.get("msg", "invalid")
    pattern = (error.get("ctx") or {}).get("pattern")
    if pattern == common.ID_PATTERN:
        return "expected " + _id_words(error.get("loc", ()))
    words = pattern_words(pattern)
    if words is None:
        return "not in the form this field takes (see the API reference)"
    return "expected " + words


async def _arame_error(request: Request, exc: exceptions.ArameError):
    if exc.status >= 500 and exc.status != 503:
        LOG.error("%s %s: %s", request.method, request.url.path, exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(
        exc.status, exc.code, exc.message, exc.details, headers
    )


async def _validation_error(request: Request, exc: RequestValidationError):
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "bad_request", "the body is not valid JSON")
    ctype = request.headers.get("content-type", "")
    if (
        request.headers.get("content-length", "0") not in ("", "0")
        and "json" not in ctype.lower()
        and any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors)
    ):
        return error_response(
            400,
            "bad_request",
            "the body must be JSON (Content-Type: application/json)",
        )
    fields = []
    for e in errors:
        fields.append(
            {
                "field": _field(e.get("loc", ())),
                "message": validation_message(e),
            }
        )
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    return error_response(
        422,
        "invalid",
        f"{first['field']}: {first['message']}",
        {"fields": fields},
    )


async def _http_error(request: Request, exc: StarletteHTTPException):
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such path: {request.url.path}"
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        # Starlette names only the methods of the first route matching the
        # path; a path served by several routes (GET here, POST there)
        # accepts all of theirs.
        allowed = _allowed_methods(request)
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        message = f"{request.method} is not allowed here; allowed: " + (
            ", ".join(allowed)
        )
    return error_response(exc.status_code, code, message, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    # Ask the routes themselves (included routers nest them), one method at
    # a time: a method is allowed if some route fully matches with it.
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(
            route.matches(scope)[0] == Match.FULL
            for route in request.app.router.routes
        ):
            allowed.append(method)
    return allowed


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


async def _unexpected(request: Request, exc: Exception):
    LOG.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        500,
        "internal_error",
        "internal error (a bug: please report it with the "
        "X-Request-Id of this answer)",
    )


DB_UNAVAILABLE = "the database is not reachable; try again"


async def _database_error(request: Request, exc: Exception):
    """What api/db_retry.py could not run again: the database stayed
    away, or failed after the request had committed. Not a bug: 503."""
    if not db_retry.is_transient(exc):
        return await _unexpected(request, exc)
    LOG.warning(
        "%s %s: database unavailable: %s",
        request.method,
        request.url.path,
        exc,
    )
    return error_response(
        503,
        "service_unavailable",
        DB_UNAVAILABLE,
        headers={"Retry-After": "2"},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(exceptions.ArameError, _arame_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa.exc.DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
