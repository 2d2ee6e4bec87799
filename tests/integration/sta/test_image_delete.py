"""What the image delete flow asks of a storage node (delete_image), on real
ZFS: an image an agent was killed while importing (a dataset, no @base)
goes like a whole one; one a volume was cloned from goes while the volume
keeps its bytes, and nothing is left once the volume goes; every delete
asked twice answers the same."""

import os

from arame.agents.sta.backends.zfs import SHA, SIZE

from .initiator import MiB, new_id
from .test_sta import CTXT, image, nothing_left  # noqa: F401  (fixture)


def test_an_image_left_half_imported_is_deleted(agent):
    iid = new_id("image")
    backend = agent.mgr.backend
    name = backend._img(iid)
    # What import_image has made when its agent is killed mid-copy.
    path = backend.layout.create_image(
        backend.zfs, name, 8 * MiB, {SIZE: str(8 * MiB), SHA: "0" * 64}
    )
    with open(path, "r+b") as f:
        f.write(b"\x11" * MiB)
    listed = agent.mgr.list_resources(CTXT)["images"]
    assert listed == [{"id": iid, "size_bytes": 8 * MiB, "ready": False}]
    for _ in range(2):
        assert agent.mgr.delete_image(CTXT, iid) == {}
    assert agent.mgr.list_resources(CTXT)["images"] == []
    nothing_left(agent)


def test_an_image_with_a_clone_goes_and_the_clone_keeps_its_bytes(
    agent, image
):
    pool = agent.pool
    vid = new_id("volume")
    agent.mgr.create_volume(CTXT, {"id": vid, "size_gb": 1, "image_id": image})
    for _ in range(2):
        assert agent.mgr.delete_image(CTXT, image) == {}
    res = agent.mgr.list_resources(CTXT)
    assert res["images"] == []
    assert [v["id"] for v in res["volumes"]] == [vid]
    assert not [d for d in pool.datasets() if image in d]
    # The shared bytes moved into the volume: it reads the image's marks.
    disk = os.path.join(pool.mountpoint, "volumes", vid, "disk.raw")
    with open(disk, "rb") as f:
        assert f.read(16) == b"\x5a" * 16
        f.seek(63 * MiB)
        assert f.read(16) == b"\xc3" * 16
    agent.mgr.delete_volume(CTXT, vid)
    nothing_left(agent)
