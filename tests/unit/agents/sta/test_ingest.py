"""Image bytes: exactly the announced size and sha256, zeros as holes."""

import hashlib
import io
import os

import pytest

from arame.agents.sta import ingest
from arame.agents.sta.errors import ImageDataInvalid

CHUNK = 64 * 1024


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Trickle(io.RawIOBase):
    """A stream that returns a few bytes per read, as a socket does."""

    def __init__(self, data, step=1000):
        self.data, self.pos, self.step = data, 0, step

    def readable(self):
        return True

    def read(self, n=-1):
        part = self.data[self.pos : self.pos + min(n, self.step)]
        self.pos += len(part)
        return part


def copy(data, dst, size=None, digest=None, src=None):
    ingest.copy_verified(
        src or io.BytesIO(data),
        dst,
        len(data) if size is None else size,
        digest or sha(data),
        chunk=CHUNK,
    )


def test_copies_and_leaves_holes_for_zeros(tmp_path):
    data = b"A" * CHUNK + bytes(8 * CHUNK) + b"B" * 10 + bytes(3 * CHUNK)
    path = tmp_path / "disk.raw"
    with open(path, "w+b") as f:
        copy(data, f, src=Trickle(data))
    assert path.read_bytes() == data
    st = os.stat(path)
    assert st.st_size == len(data)
    # The zero chunks were not written (a hole reads zeros, costs nothing).
    assert st.st_blocks * 512 < len(data) // 2


def test_a_file_ending_in_zeros_has_its_full_size(tmp_path):
    data = b"x" + bytes(4 * CHUNK - 1) + bytes(4 * CHUNK)
    path = tmp_path / "disk.raw"
    with open(path, "w+b") as f:
        copy(data, f)
    assert os.path.getsize(path) == len(data)
    assert path.read_bytes() == data


@pytest.mark.parametrize("change", ["short", "long", "digest"])
def test_refuses_bytes_that_do_not_match(tmp_path, change):
    data = os.urandom(3 * CHUNK + 5)
    size, digest = len(data), sha(data)
    if change == "short":
        data = data[:-1]
    elif change == "long":
        data = data + b"!"
    else:
        digest = sha(b"other")
    with pytest.raises(ImageDataInvalid), open(tmp_path / "d", "w+b") as f:
        copy(data, f, size=size, digest=digest)


def test_a_longer_stream_is_not_read_to_its_end():
    src = io.BytesIO(b"y" * (10 * CHUNK))
    with pytest.raises(ImageDataInvalid, match="more than"):
        ingest.copy_verified(
            src, ingest.Discard(), CHUNK, sha(b"y" * CHUNK), chunk=CHUNK
        )
    assert src.tell() <= 2 * CHUNK + 1


def test_discard_checks_without_keeping():
    data = os.urandom(CHUNK * 2)
    ingest.copy_verified(
        io.BytesIO(data), ingest.Discard(), len(data), sha(data), chunk=CHUNK
    )
