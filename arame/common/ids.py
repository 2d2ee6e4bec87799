"""Resource IDs: a prefix plus 8 characters of [a-z0-9] (doc/source/architecture/rest.rst).

Short enough that `tap-i-3k9x2m0q` still fits Linux's 15-character names.
"""

import re
import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits

PREFIXES = {
    "instance": "i",
    "volume": "vol",
    "snapshot": "snap",
    "image": "img",
    "security_group": "sg",
    "key_pair": "kp",
    "network": "nw",
    "host": "hn",
    "node": "bm",
    "task": "t",
    "account": "a",
    "user": "u",
    "unit_group": "ug",
    "unit": "un",
    "router": "rt",
    "floating_ip": "fip",
}

_ID_RE = re.compile(r"[a-z]{1,4}-[a-z0-9]{8}")


def generate(kind: str) -> str:
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{PREFIXES[kind]}-{suffix}"


def is_valid(kind: str, value: str) -> bool:
    """True when value is a well-formed ID of this kind.

    Agents check every identifier they pass to an external tool with this.
    """
    return (
        isinstance(value, str)
        and _ID_RE.fullmatch(value) is not None
        and value.startswith(PREFIXES[kind] + "-")
    )
