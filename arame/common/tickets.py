"""Short-lived signed tickets: a claim set one process hands to another
through a third party (the API to a storage node's data endpoint, carried
by the upload request), so the receiver can trust it without a database.

A ticket is `<claims>.<signature>`, both unpadded base64url: the claims
are canonical JSON with an `exp` (Unix time), the signature is
HMAC-SHA256 over the encoded claims with a secret both sides share.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time


class TicketError(Exception):
    """The ticket cannot be trusted (its message says why)."""


class BadSignature(TicketError):
    """Malformed, or not signed with our secret."""


class Expired(TicketError):
    """Signed by us, but past its expiry."""


class WrongClaims(TicketError):
    """Signed by us, but for something else (another image, node, size)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> bytes:
    if not secret:
        # An empty key would make every ticket forgeable by anyone.
        raise TicketError("no ticket secret is configured")
    return hmac.new(
        secret.encode(), payload.encode("ascii"), hashlib.sha256
    ).digest()


def sign(
    secret: str, claims: dict, ttl: float, *, now: float | None = None
) -> str:
    """A ticket for `claims` (JSON values) valid for `ttl` seconds."""
    body = dict(claims)
    body["exp"] = int((time.time() if now is None else now) + ttl)
    payload = _b64(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    )
    return f"{payload}.{_b64(_mac(secret, payload))}"


def verify(
    secret: str, token: str, expected_claims: dict, *, now: float | None = None
) -> dict:
    """The ticket's claims, if it is ours, unexpired and carries every
    expected claim with the expected value; else a TicketError."""
    if (
        not isinstance(token, str)
        or token.count(".") != 1
        or len(token) > 4096
    ):
        raise BadSignature("malformed ticket")
    payload, sig = token.split(".")
    try:
        given = _unb64(sig)
    except (binascii.Error, ValueError):
        raise BadSignature("malformed ticket") from None
    if not hmac.compare_digest(given, _mac(secret, payload)):
        raise BadSignature("bad ticket signature")
    try:
        claims = json.loads(_unb64(payload))
    except (binascii.Error, ValueError):
        raise BadSignature("malformed ticket") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise BadSignature("malformed ticket")
    if claims["exp"] < (time.time() if now is None else now):
        raise Expired("the ticket has expired")
    for key, value in expected_claims.items():
        if claims.get(key) != value:
            raise WrongClaims(f"the ticket is not valid for this {key}")
    return claims
