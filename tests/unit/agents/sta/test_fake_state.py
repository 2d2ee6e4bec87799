"""[fake_sta] state_file: the fake pool and the fake target's exports
outlive the agent, as ZFS datasets and tgtd's targets do."""

import hashlib
import io
import json

from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.targets.fake import FakeTarget
from arame.common.conf import CONF

GiB = 1024**3
IMG, VOL, VOL2, SNAP = (
    "img-aaaa0001",
    "vol-aaaa0001",
    "vol-aaaa0002",
    "snap-aaaa0001",
)
PW = "Secret-pass-0001"
DATA = b"image-bytes" * 100
SHA = hashlib.sha256(DATA).hexdigest()


def started():
    """What the agent builds from its configuration (service.py)."""
    return FakeBackend.from_config(CONF), FakeTarget.from_config(CONF)


def test_in_memory_by_default(sta_conf):
    backend, _ = started()
    backend.create_volume(VOL, GiB)
    assert started()[0].volumes == {}


def test_a_new_agent_on_the_file_sees_the_same_pool_and_exports(
    sta_conf, tmp_path
):
    path = tmp_path / "sta.json"
    sta_conf("state_file", str(path), group="fake_sta")
    backend, target = started()
    backend.import_image(IMG, io.BytesIO(DATA), len(DATA), SHA)
    vol = backend.create_volume(VOL, GiB, image_id=IMG)
    backend.create_snapshot(SNAP, VOL)
    backend.create_volume(VOL2, GiB, snapshot_id=SNAP)
    target.export(VOL, vol.path, "10.0.0.5", "u-0001", PW)
    assert target.login(VOL, "10.0.0.5", "u-0001", PW)
    # The agent is killed; the next one reads the file.
    backend, target = started()
    assert backend.get_volume(VOL) == vol
    assert backend.list_resources() == {
        "volumes": [
            {"id": VOL, "size_bytes": GiB, "origin": IMG, "ready": True},
            {"id": VOL2, "size_bytes": GiB, "origin": SNAP, "ready": True},
        ],
        "snapshots": [{"id": SNAP, "volume_id": VOL}],
        "images": [{"id": IMG, "size_bytes": len(DATA), "ready": True}],
    }
    (export,) = target.list_exports().values()
    assert (export.volume_id, export.initiators, export.sessions) == (
        VOL,
        ("10.0.0.5",),
        1,
    )
    assert target.login(VOL, "10.0.0.5", "u-0001", PW)
    # What a test reading the file after a kill finds.
    doc = json.loads(path.read_text())
    assert sorted(doc) == ["exports", "images", "snapshots", "volumes"]
    assert doc["exports"][VOL]["initiator"] == "10.0.0.5"
    assert doc["snapshots"] == {SNAP: VOL}


def test_deletes_reach_the_file(sta_conf, tmp_path):
    path = tmp_path / "sta.json"
    sta_conf("state_file", str(path), group="fake_sta")
    backend, target = started()
    vol = backend.create_volume(VOL, GiB)
    target.export(VOL, vol.path, "10.0.0.5", "u-0001", PW)
    target.unexport(VOL)
    backend.delete_volume(VOL)
    backend, target = started()
    assert (backend.volumes, target.list_exports()) == ({}, {})
    assert json.loads(path.read_text())["exports"] == {}


def test_a_write_cut_short_leaves_the_state_before_it(sta_conf, tmp_path):
    path = tmp_path / "sta.json"
    sta_conf("state_file", str(path), group="fake_sta")
    started()[0].create_volume(VOL, GiB)
    (tmp_path / "sta.json.tmp").write_text('{"volumes": {"vol-aaaa00')
    backend, _ = started()
    assert list(backend.volumes) == [VOL]
    backend.create_volume(VOL2, GiB)
    assert sorted(started()[0].volumes) == [VOL, VOL2]
