"""Errors shared by every component.

Each carries the HTTP status and machine code the API maps it to, so the
service functions raise what they mean and the handlers stay thin.
"""


class ArameError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str | None = None, **details):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details


class BadRequest(ArameError):
    """The request is malformed."""

    status, code = 400, "bad_request"


class Unauthorized(ArameError):
    """No valid token."""

    status, code = 401, "unauthorized"


class Forbidden(ArameError):
    """Not allowed."""

    status, code = 403, "forbidden"


class NotFound(ArameError):
    """Not found."""

    status, code = 404, "not_found"


class Conflict(ArameError):
    """The resource is not in a state that allows this."""

    status, code = 409, "conflict"


class TooLarge(ArameError):
    """The request is too large."""

    status, code = 413, "too_large"


class Invalid(ArameError):
    """The request is well-formed but invalid."""

    status, code = 422, "invalid"


class OverQuota(ArameError):
    """Over quota."""

    status, code = 429, "over_quota"


class InvalidTransition(ArameError):
    """A state machine refused a transition (a bug if it reaches a user)."""

    status, code = 409, "invalid_transition"


class NoValidHost(ArameError):
    """No host can take this request."""

    code = "no_valid_host"


class AgentError(ArameError):
    """An agent failed an operation."""

    code = "agent_error"
