"""SSH public keys read from a user's file, checked before they are sent.

Only the standard library: the client must not need `cryptography`. The
server checks the key itself; this catches the usual mistakes (a private
key, a path to the wrong file, a pasted fragment) with a message that says
which file and which line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
MAX_FILE = 64 * 1024


class InvalidPublicKey(ValueError):
    pass


@dataclass(frozen=True)
class PublicKey:
    type: str
    blob: bytes
    comment: str

    @property
    def line(self) -> str:
        return f"{self.type} {base64.b64encode(self.blob).decode()}"

    @property
    def fingerprint(self) -> str:
        """As ``ssh-keygen -l`` and the API show it: SHA256:<base64>."""
        digest = base64.b64encode(hashlib.sha256(self.blob).digest())
        return "SHA256:" + digest.decode().rstrip("=")

    @property
    def pair_name(self) -> str:
        """The key pair name the SDK imports it under: one per key, so the
        same key from any notebook finds the same pair."""
        return "sdk-" + hashlib.sha256(self.blob).hexdigest()[:12]


def parse_line(line: str, where: str = "key") -> PublicKey:
    fields = line.split()
    if len(fields) < 2:
        raise InvalidPublicKey(f"{where}: not 'TYPE BASE64 [COMMENT]'")
    kind, data = fields[0], fields[1]
    if kind not in KEY_TYPES:
        raise InvalidPublicKey(
            f"{where}: unknown key type {kind!r} "
            f"(expected one of {', '.join(sorted(KEY_TYPES))})"
        )
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPublicKey(f"{where}: the key is not base64") from None
    # The blob starts with its own type as an SSH string: a key pasted
    # under the wrong type, or cut short, fails here.
    try:
        (length,) = struct.unpack(">I", blob[:4])
        inner = blob[4 : 4 + length].decode()
    except (struct.error, UnicodeDecodeError):
        inner = None
    if inner != kind:
        raise InvalidPublicKey(
            f"{where}: the key data does not hold a {kind} key "
            "(truncated or pasted under the wrong type?)"
        )
    return PublicKey(kind, blob, " ".join(fields[2:]))


def read_file(path: str | Path) -> list[PublicKey]:
    """Every key in an OpenSSH public key (or authorized_keys) file."""
    target = Path(path).expanduser()
    try:
        if target.stat().st_size > MAX_FILE:
            raise InvalidPublicKey(
                f"{target}: larger than {MAX_FILE} bytes: not a public key"
            )
        text = target.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidPublicKey(f"cannot read {target}: {exc}") from exc
    if "PRIVATE KEY" in text:
        raise InvalidPublicKey(
            f"{target} is a private key: give its .pub file "
            "(the private key never leaves your machine)"
        )
    keys = [
        parse_line(line, f"{target} line {n}")
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not keys:
        raise InvalidPublicKey(f"{target} holds no public key")
    return keys
