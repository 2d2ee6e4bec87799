"""The initiator side of the sta integration tests: images with a known
pattern, and qemu-io on an exported LUN through qemu's own iSCSI initiator."""

import os
import subprocess
import uuid

from arame.common import ids

MiB = 1024**2


def make_image(path, size: int, marks: dict[int, int]) -> None:
    """A sparse raw file: a MiB of byte `value` at each MiB offset in marks."""
    with open(path, "wb") as f:
        for mib, value in marks.items():
            f.seek(mib * MiB)
            f.write(bytes([value]) * MiB)
        f.truncate(size)


def new_id(kind: str) -> str:
    return ids.generate(kind)


def iscsi_io(
    conn: dict, user: str, password: str, *commands: str, secret_dir
) -> subprocess.CompletedProcess:
    """qemu-io on the exported LUN through qemu's own initiator; the CHAP
    password goes in a 0600 file, never on the command line."""
    secret = os.path.join(secret_dir, f"chap-{uuid.uuid4().hex[:6]}")
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password)
    try:
        opts = ",".join(
            [
                "driver=raw",
                "file.driver=iscsi",
                "file.transport=tcp",
                f"file.portal={conn['portal']}",
                f"file.target={conn['iqn']}",
                f"file.lun={conn['lun']}",
                f"file.user={user}",
                "file.password-secret=sec0",
            ]
        )
        args = [
            "qemu-io",
            "--object",
            f"secret,id=sec0,file={secret}",
            "--image-opts",
            opts,
        ]
        for c in commands:
            args += ["-c", c]
        return subprocess.run(
            args, capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        os.unlink(secret)
