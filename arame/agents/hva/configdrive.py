"""The config drive: what a guest learns about itself at boot.

A cloud-init NoCloud drive: an ISO 9660 image with volume id `cidata`
holding `meta-data` (instance id, hostname, SSH public keys) and, when
given, `user-data`. The hypervisor attaches it as a read-only virtio disk;
cloud-init and the Arame test image both find it by its files.

Everything written here reaches a guest and a command line (xorriso), so
every input is checked first, and the drive appears at its path complete
or not at all (built beside it, then renamed).
"""

import base64
import binascii
import json
import os
import re
import shutil
import tempfile

from arame.common import ids, runner

MAX_USER_DATA = 96 * 1024  # bytes; VCP's user scripts go to 93 KB
MAX_PUBLIC_KEY = 16 * 1024  # bytes, as the key pair API accepts
MAX_PUBLIC_KEYS = 100
VOLUME_ID = "cidata"  # what cloud-init's NoCloud looks for

_HOSTNAME_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_KEY_TYPE_RE = re.compile(r"[a-z0-9@.-]{1,64}")


def _check_hostname(hostname: str) -> None:
    # One RFC 1123 label: the guest sets it as its hostname as is.
    if not isinstance(hostname, str) or not _HOSTNAME_RE.fullmatch(hostname):
        raise ValueError(
            f"hostname {hostname!r} is not an RFC 1123 label "
            "(1-63 letters, digits and '-', no '-' at either end)"
        )


def _check_key(key: str) -> None:
    if not isinstance(key, str):
        raise TypeError("a public key must be a string")
    if "\n" in key or "\r" in key or "\0" in key:
        raise ValueError("a public key must be one line")
    if len(key.encode()) > MAX_PUBLIC_KEY:
        raise ValueError(f"a public key is at most {MAX_PUBLIC_KEY} bytes")
    fields = key.split()
    if len(fields) < 2 or not _KEY_TYPE_RE.fullmatch(fields[0]):
        raise ValueError("a public key is '<type> <base64> [comment]'")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except binascii.Error as e:
        raise ValueError(
            f"a public key's second field is not base64: {e}"
        ) from e
    if not blob:
        raise ValueError("a public key's blob is empty")


def _user_data_bytes(user_data: str | None) -> bytes | None:
    if user_data is None:
        return None
    if not isinstance(user_data, str):
        raise TypeError("user_data must be a string")
    data = user_data.encode()
    if len(data) > MAX_USER_DATA:
        raise ValueError(
            f"user_data is {len(data)} bytes, over the "
            f"{MAX_USER_DATA}-byte limit"
        )
    return data


def meta_data(
    *, instance_id: str, hostname: str, public_keys: list[str]
) -> str:
    """The meta-data file: YAML, every string double-quoted.

    JSON strings are YAML double-quoted scalars, so a comment holding ':' or
    '#' stays a string, and the guest's line parser needs no YAML library.
    """
    lines = [
        f"instance-id: {json.dumps(instance_id)}",
        f"local-hostname: {json.dumps(hostname)}",
    ]
    if public_keys:
        lines.append("public-keys:")
        lines += [f"  - {json.dumps(k.strip())}" for k in public_keys]
    return "\n".join(lines) + "\n"


def validate(
    *,
    instance_id: str,
    hostname: str,
    public_keys: list[str],
    user_data: str | None,
) -> bytes | None:
    """Raise ValueError on a bad value (TypeError on a wrong type);
    return user_data as bytes."""
    if not ids.is_valid("instance", instance_id):
        raise ValueError(f"instance id {instance_id!r} is not valid")
    _check_hostname(hostname)
    if isinstance(public_keys, str) or not isinstance(
        public_keys, (list, tuple)
    ):
        raise TypeError("public_keys must be a list of strings")
    if len(public_keys) > MAX_PUBLIC_KEYS:
        raise ValueError(f"at most {MAX_PUBLIC_KEYS} public keys")
    for key in public_keys:
        _check_key(key)
    return _user_data_bytes(user_data)


def build(
    path: str,
    *,
    instance_id: str,
    hostname: str,
    public_keys: list[str],
    user_data: str | None,
) -> None:
    """Write the config drive ISO to `path` (replacing it atomically).

    The file is readable by its owner only: user-data may carry secrets
    (libvirt's dynamic ownership hands it to the qemu user at start).
    """
    data = validate(
        instance_id=instance_id,
        hostname=hostname,
        public_keys=public_keys,
        user_data=user_data,
    )
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    staging = tempfile.mkdtemp(prefix=".configdrive-", dir=parent)
    iso_tmp = os.path.join(staging, "drive.iso")
    try:
        files = os.path.join(staging, "files")
        os.mkdir(files, 0o700)
        with open(os.path.join(files, "meta-data"), "w") as f:
            f.write(
                meta_data(
                    instance_id=instance_id,
                    hostname=hostname,
                    public_keys=list(public_keys),
                )
            )
        if data is not None:
            with open(os.path.join(files, "user-data"), "wb") as f:
                f.write(data)
        # Rock Ridge keeps the names as they are (meta-data, not
        # META_DAT.;1); Joliet is for guests that read only that.
        runner.run(
            [
                "xorriso",
                "-as",
                "mkisofs",
                "-quiet",
                "-o",
                iso_tmp,
                "-volid",
                VOLUME_ID,
                "-joliet",
                "-rock",
                files,
            ],
            timeout=60,
        )
        os.chmod(iso_tmp, 0o600)
        os.replace(iso_tmp, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
