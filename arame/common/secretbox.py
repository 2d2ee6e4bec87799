"""Credentials the controller must give back in clear (a BMC password goes
to ipmitool), sealed at rest so that a database dump alone reveals none.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key file
every controller process reads: `[DEFAULT] credential_key_file`, made with
mode 0600 by the first process that needs it. Controllers on several hosts
share the file, as Keystone's fernet keys are shared.
"""

import os

from cryptography.fernet import Fernet, InvalidToken

from arame.common import exceptions
from arame.common.conf import CONF

PREFIX = "fernet:"


def _key() -> bytes:
    path = CONF.credential_key_file
    try:
        with open(path, "rb") as f:
            return f.read().strip()
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    key = Fernet.generate_key()
    try:
        # O_EXCL: two processes starting at once keep the first one's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, "rb") as f:
            return f.read().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
    return key


def seal(plain: str) -> str:
    return PREFIX + Fernet(_key()).encrypt(plain.encode()).decode()


def unseal(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise exceptions.ArameError("credential is not sealed")
    try:
        return Fernet(_key()).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        # Never the value itself: only that the key does not open it.
        raise exceptions.ArameError(
            "credential cannot be opened with the key in "
            f"{CONF.credential_key_file}"
        ) from None
