"""Which endpoint and token a notebook uses: what it was given, else the
environment (ARAME_URL, ARAME_TOKEN), else the login ``arame login`` saved.

The same rules as the CLI's (arame.cli.connection), so a notebook started
after ``arame login`` in a terminal needs no token in its cells.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from arame.cli import connection, credentials


@dataclass(frozen=True)
class Login:
    endpoint: str
    token: str | None
    source: str  # where the token came from, for error messages


def find(
    token: str | None,
    endpoint: str | None,
    environ: Mapping[str, str] = os.environ,
) -> Login:
    stored = credentials.load(environ)
    conn = connection.resolve(endpoint, token, environ, stored)
    if token:
        source = "the token given to ArameSDK"
    elif environ.get("ARAME_TOKEN"):
        source = "ARAME_TOKEN"
    elif conn.token:
        source = (
            f"the login saved by `arame login` ({credentials.path(environ)})"
        )
    elif stored and stored.get("url"):
        # The CLI never sends a token to another server than its own.
        source = (
            f"no token: the saved login is for {stored['url']}, not {conn.url}"
        )
    else:
        source = "no token"
    return Login(conn.url, conn.token, source)
