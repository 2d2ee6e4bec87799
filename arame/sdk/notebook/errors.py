"""What the notebook SDK raises beyond arame.sdk.errors.

Each names what failed and why in its message, since in a notebook the
message is usually all a user reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arame.sdk.errors import ArameError


class AuthError(ArameError):
    """No token, or the server refused it (expired, revoked, unknown)."""


class WaitTimeout(TimeoutError):
    """A wait ran out of time; the work goes on server-side.

    Wait again with ``ugroup.wait_unit_applied(unit_name)`` (from any
    ArameSDK, a new one after a kernel restart too).
    """

    def __init__(
        self, what: str, timeout: float, state: str | None = None
    ) -> None:
        self.what = what
        self.timeout = timeout
        self.state = state
        shown = f" (still {state})" if state else ""
        super().__init__(
            f"{what} not finished after {timeout:g} s{shown}; it goes on "
            "server-side: wait again with "
            "ugroup.wait_unit_applied(<unit name>)"
        )


@dataclass(frozen=True)
class NodeFailure:
    node: str  # the node's name (its id when the name is unknown)
    step: str | None
    reason: str
    host: str | None = None

    def __str__(self) -> str:
        where = f" at {self.step}" if self.step else ""
        on = f" on {self.host}" if self.host else ""
        return f"{self.node}{where}{on}: {self.reason}"


class UnitError(Exception):
    """Some of a unit's nodes failed; ``failures`` says which, where, why.

    ``unit`` is the unit's handle (None when it is gone), so the caller can
    look at it, delete the failed nodes or add others.
    """

    def __init__(
        self,
        what: str,
        failures: list[NodeFailure],
        unit: Any = None,
        message: str | None = None,
    ) -> None:
        self.what = what
        self.failures = failures
        self.unit = unit
        lines = [f"  {f}" for f in failures]
        if not lines and message:
            lines = [f"  {message}"]
        head = f"{what} failed" + (
            f": {len(failures)} node(s)" if failures else ""
        )
        super().__init__("\n".join([head, *lines]))
