"""Image bytes from a stream to disk, checked on the way.

The data path of an image never crosses RabbitMQ: whoever holds the bytes
(a local file for import_image, an HTTP request body for the upload
endpoint) hands a readable stream to the backend, which writes it with
`copy_verified`. Memory stays bounded (one chunk), runs of zeros become
holes, and the size and sha256 are checked before anything is published.
"""

import hashlib
import io
import os
import stat
from typing import BinaryIO

from arame.agents.sta.errors import ImageDataInvalid

CHUNK = 4 * 1024 * 1024
_ZEROS = bytes(CHUNK)


def copy_verified(
    src: BinaryIO, dst: BinaryIO, size: int, sha256: str, *, chunk: int = CHUNK
) -> None:
    """Copy exactly `size` bytes from src to dst (both at offset 0) and check
    their sha256; raise ImageDataInvalid (dst then holds garbage: the caller
    throws it away). Making the bytes durable (fsync) is the caller's job.

    All-zero chunks are skipped with a seek, so dst must read zeros where
    nothing was written: a new sparse file or a new zvol.
    """
    digest = hashlib.sha256()
    zeros = _ZEROS if chunk == CHUNK else bytes(chunk)
    done = 0
    pending_hole = False
    while True:
        # Ask one byte past the end so a longer stream is caught.
        want = min(chunk, size - done + 1)
        data = _read_full(src, want)
        if not data:
            break
        done += len(data)
        if done > size:
            raise ImageDataInvalid(f"more than the announced {size} bytes")
        digest.update(data)
        if len(data) == chunk and data == zeros:
            dst.seek(len(data), os.SEEK_CUR)
            pending_hole = True
        else:
            dst.write(data)
            pending_hole = False
    if done != size:
        raise ImageDataInvalid(f"got {done} bytes, {size} announced")
    if digest.hexdigest() != sha256:
        raise ImageDataInvalid(
            f"sha256 is {digest.hexdigest()}, {sha256} announced"
        )
    if pending_hole and _is_regular(dst):
        # A file ending in a hole is only as long as its last write.
        dst.truncate(size)
    dst.flush()


def _read_full(src: BinaryIO, n: int) -> bytes:
    """Up to n bytes: short only at the end of the stream (HTTP bodies and
    pipes return what they have)."""
    parts, got = [], 0
    while got < n:
        part = src.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _is_regular(f: BinaryIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except (AttributeError, io.UnsupportedOperation):
        return False


class Discard(io.RawIOBase):
    """A destination that keeps nothing (the fake backend checks the
    bytes and throws them away)."""

    def writable(self):
        return True

    def seekable(self):
        return True

    def write(self, b):
        return len(b)

    def seek(self, offset, whence=os.SEEK_SET):
        return 0
