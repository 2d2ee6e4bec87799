"""Image upload on real ZFS (zfs-fuse): bytes streamed over HTTP into the
data endpoint land in `<pool>/images/<id>` frozen as `@base`, read back
equal, and a bad upload leaves nothing in the pool."""

import hashlib
import os

import httpx
import pytest

from arame.agents.sta.data_server import DataServer
from arame.common import tickets

from .initiator import MiB, make_image, new_id

SECRET = "integration-secret"
NODE = "st-int"
CTXT = {}
MARKS = {0: 0x5A, 7: 0x33, 23: 0xC3}  # MiB offset -> byte
SIZE = 24 * MiB + 12345  # not a whole number of chunks


@pytest.fixture
def data(agent):
    ds = DataServer(
        agent.mgr.images,
        node=NODE,
        secret=SECRET,
        address="127.0.0.1",
        port=0,
        timeout=30,
    )
    ds.start()
    yield ds
    ds.stop()


@pytest.fixture
def source(tmp_path):
    path = str(tmp_path / "upload.raw")
    make_image(path, SIZE, MARKS)
    with open(path, "rb") as f:
        return path, hashlib.file_digest(f, "sha256").hexdigest()


def send(data, image_id, path, sha, size=None):
    size = os.path.getsize(path) if size is None else size
    tk = tickets.sign(
        SECRET,
        {"image_id": image_id, "node": NODE, "size": size, "sha256": sha},
        60,
    )
    with open(path, "rb") as f:
        # A file object: httpx streams it in chunks, never whole.
        return httpx.put(
            f"{data.url}/images/{image_id}",
            content=f,
            headers={
                "Authorization": f"Ticket {tk}",
                "Content-Length": str(size),
            },
            timeout=60,
        )


def dataset_file(agent, image_id) -> str:
    mnt = agent.pool.get(f"{agent.pool.name}/images/{image_id}", "mountpoint")
    return os.path.join(mnt, "disk.raw")


def test_upload_lands_as_a_frozen_image_with_the_same_bytes(
    agent, data, source
):
    path, sha = source
    iid = new_id("image")
    r = send(data, iid, path, sha)
    assert r.status_code == 201, r.text
    assert r.json() == {"id": iid, "size_bytes": SIZE, "sha256": sha}
    pool = agent.pool.name
    names = agent.pool.datasets()
    assert f"{pool}/images/{iid}" in names
    assert f"{pool}/images/{iid}@base" in names
    with open(dataset_file(agent, iid), "rb") as f:
        assert hashlib.file_digest(f, "sha256").hexdigest() == sha
    assert os.path.getsize(dataset_file(agent, iid)) == SIZE

    # The same upload again: already there, 200, nothing changes.
    r = send(data, iid, path, sha)
    assert r.status_code == 200, r.text

    # A volume from it is a clone of @base.
    vid = new_id("volume")
    agent.mgr.create_volume(CTXT, {"id": vid, "size_gb": 1, "image_id": iid})
    assert (
        agent.pool.get(f"{pool}/volumes/{vid}", "origin")
        == f"{pool}/images/{iid}@base"
    )
    agent.mgr.delete_volume(CTXT, vid)
    agent.mgr.delete_image(CTXT, iid)
    assert agent.leftovers() == ([], [])


def test_wrong_sha256_leaves_nothing(agent, data, source):
    path, _ = source
    iid = new_id("image")
    r = send(data, iid, path, "0" * 64)
    assert r.status_code == 422, r.text
    assert "sha256" in r.json()["error"]["message"]
    assert agent.leftovers() == ([], [])


def test_a_bad_ticket_leaves_nothing(agent, data, source):
    path, sha = source
    iid = new_id("image")
    tk = tickets.sign(
        "not-the-secret",
        {"image_id": iid, "node": NODE, "size": SIZE, "sha256": sha},
        60,
    )
    with open(path, "rb") as f:
        try:
            r = httpx.put(
                f"{data.url}/images/{iid}",
                content=f,
                headers={
                    "Authorization": f"Ticket {tk}",
                    "Content-Length": str(SIZE),
                },
                timeout=60,
            )
            assert r.status_code == 403
        except httpx.WriteError:
            pass  # refused before the body: the node closed the socket
    assert agent.leftovers() == ([], [])
