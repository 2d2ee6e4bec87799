"""Checks on everything a message carries, before any of it reaches zfs or
tgtadm: identifiers, sizes, addresses, CHAP credentials, local paths."""

import ipaddress
import os
import re

from arame.agents.sta.errors import InvalidRequest
from arame.common import ids

GiB = 1024**3
MIN_VOLUME_GB = 1

# CHAP: tgtadm takes them on its command line and initiators in config
# files; a conservative alphabet keeps both unambiguous. 12 characters is
# the shortest secret common initiators accept.
_CHAP_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CHAP_SECRET = re.compile(r"[A-Za-z0-9._~+/=-]{12,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def mapping(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{what} must be an object")
    return value


def resource_id(kind: str, value) -> str:
    if not ids.is_valid(kind, value):
        raise InvalidRequest(f"not a {kind} id: {value!r}")
    return value


def volume_id(value) -> str:
    return resource_id("volume", value)


def snapshot_id(value) -> str:
    return resource_id("snapshot", value)


def image_id(value) -> str:
    return resource_id("image", value)


def size_gb(value, max_gb: int) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not MIN_VOLUME_GB <= value <= max_gb
    ):
        raise InvalidRequest(
            f"size_gb must be an integer from "
            f"{MIN_VOLUME_GB} to {max_gb}: {value!r}"
        )
    return value


def image_size(value, max_gb: int) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 0 < value <= max_gb * GiB
    ):
        raise InvalidRequest(
            f"image size must be 1 byte to {max_gb} GiB: {value!r}"
        )
    return value


def sha256(value) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InvalidRequest("sha256 must be 64 lowercase hex digits")
    return value


def address(value) -> str:
    """An initiator's IP address (v4 or v6), returned in canonical form."""
    # ip_address() takes an integer too (5 is 0.0.0.5): text only.
    if not isinstance(value, str):
        raise InvalidRequest(f"not an IP address: {value!r}")
    try:
        return str(ipaddress.ip_address(value))
    except (ValueError, TypeError):
        raise InvalidRequest(f"not an IP address: {value!r}") from None


def chap_user(value) -> str:
    if not isinstance(value, str) or not _CHAP_USER.fullmatch(value):
        raise InvalidRequest(
            f"CHAP user must be 1-64 of [A-Za-z0-9._-]: {value!r}"
        )
    return value


def chap_secret(value) -> str:
    # Never echo the value, not even in an error.
    if not isinstance(value, str) or not _CHAP_SECRET.fullmatch(value):
        raise InvalidRequest("CHAP secret must be 12-64 of [A-Za-z0-9._~+/=-]")
    return value


def import_path(value, allowed_dirs: list[str]) -> str:
    """A regular file under one of allowed_dirs, symlinks resolved."""
    if not isinstance(value, str) or not os.path.isabs(value):
        raise InvalidRequest(f"not an absolute path: {value!r}")
    real = os.path.realpath(value)
    for d in allowed_dirs:
        root = os.path.realpath(d)
        if os.path.commonpath([root, real]) == root and real != root:
            break
    else:
        raise InvalidRequest(
            f"{value!r} is not under an import directory ([sta] import_dirs)"
        )
    if not os.path.isfile(real):
        raise InvalidRequest(f"{value!r} is not a regular file")
    return real
