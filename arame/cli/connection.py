"""Which endpoint and token a command uses: options, then environment, then login."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_URL = "http://127.0.0.1:9001"


@dataclass(frozen=True)
class Connection:
    url: str
    token: str | None


def resolve(
    url_option: str | None,
    token_option: str | None,
    environ: Mapping[str, str],
    stored: Mapping[str, Any] | None,
) -> Connection:
    stored = stored or {}
    url = (
        url_option
        or environ.get("ARAME_URL")
        or stored.get("url")
        or DEFAULT_URL
    )
    token = token_option or environ.get("ARAME_TOKEN")
    # The stored token was issued by the stored URL's server; sending it to
    # any other endpoint would hand a credential to a stranger.
    if not token and stored.get("url") and _same_endpoint(stored["url"], url):
        token = stored.get("token")
    return Connection(url=url, token=token or None)


def _same_endpoint(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")
