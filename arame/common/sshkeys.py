"""SSH public keys: parse and check what users import, generate pairs.

The `cryptography` library parses the OpenSSH format, so a malformed or weak
key is refused at the API with a reason instead of reaching a guest.
"""

import base64
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

MAX_PUBLIC_KEY = 16 * 1024
MIN_RSA_BITS = 2048


class InvalidKey(ValueError):
    pass


def fingerprint(public_key: str) -> str:
    """OpenSSH's SHA256 fingerprint ("SHA256:..." as `ssh-keygen -l` shows)."""
    blob = base64.b64decode(public_key.split()[1])
    digest = (
        base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    )
    return f"SHA256:{digest}"


def parse_public_key(text: str) -> tuple[str, str]:
    """-> (type, normalised "type base64" line); InvalidKey with the reason."""
    text = text.strip()
    if not text or len(text) > MAX_PUBLIC_KEY or "\n" in text or "\r" in text:
        raise InvalidKey(
            "public_key must be one line in OpenSSH format, "
            f"at most {MAX_PUBLIC_KEY} bytes"
        )
    try:
        key = serialization.load_ssh_public_key(text.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise InvalidKey(
            f"public_key is not an OpenSSH public key: {e}"
        ) from e
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise InvalidKey(
            f"RSA keys must have at least {MIN_RSA_BITS} bits "
            f"(this one has {key.key_size})"
        )
    if not isinstance(
        key,
        (
            rsa.RSAPublicKey,
            ed25519.Ed25519PublicKey,
            ec.EllipticCurvePublicKey,
        ),
    ):
        raise InvalidKey("only RSA, ECDSA and Ed25519 keys are accepted")
    line = key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    return line.split()[0], line


def generate(kind: str = "ed25519") -> tuple[str, str, str]:
    """-> (type, public key line, private key in OpenSSH PEM)."""
    if kind == "ed25519":
        priv = ed25519.Ed25519PrivateKey.generate()
    elif kind == "rsa":
        priv = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    else:
        raise InvalidKey(f"unknown key type {kind!r}")
    public = (
        priv.public_key()
        .public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        .decode()
    )
    private = priv.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    return public.split()[0], public, private
