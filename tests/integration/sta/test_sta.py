"""The storage agent end to end on real daemons: images and volumes in a ZFS
pool (zfs-fuse), exported by tgtd, read and written by qemu's initiator."""

import hashlib
import logging
import os
import subprocess
import time

import pytest

from arame.agents.sta import errors
from arame.common import runner
from tests.helpers.waiting import wait_until

from .initiator import MiB, iscsi_io, make_image, new_id

CTXT = {}
PW = "Chap-pass-0001"
IMG_SIZE = 64 * MiB
MARKS = {0: 0x5A, 32: 0x33, 63: 0xC3}  # MiB offset -> byte


@pytest.fixture
def image(agent):
    iid = new_id("image")
    path = os.path.join(agent.import_dir, "disk.raw")
    make_image(path, IMG_SIZE, MARKS)
    with open(path, "rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    assert agent.mgr.import_image(CTXT, iid, path, sha, IMG_SIZE) == {
        "id": iid,
        "size_bytes": IMG_SIZE,
        "sha256": sha,
    }
    return iid


def image_file(agent) -> tuple[str, str]:
    """The file the `image` fixture imported, and its sha256."""
    path = os.path.join(agent.import_dir, "disk.raw")
    with open(path, "rb") as f:
        return path, hashlib.file_digest(f, "sha256").hexdigest()


def io_ok(conn, user, *commands, tmp_path, password=PW):
    p = iscsi_io(conn, user, password, *commands, secret_dir=str(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "verification failed" not in p.stdout
    return p.stdout


def io_refused(conn, user, password, tmp_path) -> str:
    p = iscsi_io(conn, user, password, "read 0 4k", secret_dir=str(tmp_path))
    assert p.returncode != 0, p.stdout
    return p.stdout + p.stderr


def image_pattern(size_mib: int = 64) -> list[str]:
    return [f"read -P {v:#x} {m}M 1M" for m, v in MARKS.items()] + [
        f"read -P 0 {m}M 1M" for m in (1, 31, 62) if m < size_mib
    ]


def nothing_left(agent):
    assert agent.leftovers() == ([], [])


def test_a_volume_from_an_image_is_a_clone_served_over_iscsi(
    agent, image, tmp_path
):
    pool, vid, user = agent.pool, new_id("volume"), "u-" + new_id("volume")
    t0 = time.monotonic()
    assert agent.mgr.create_volume(
        CTXT, {"id": vid, "size_gb": 1, "image_id": image}
    ) == {"id": vid, "size_bytes": 1024**3, "origin": image}
    elapsed = time.monotonic() - t0
    ds = f"{pool.name}/volumes/{vid}"
    # No copy: the clone owns almost nothing and shares the image's blocks.
    assert int(pool.get(ds, "used")) < MiB
    assert int(pool.get(ds, "referenced")) >= len(MARKS) * MiB
    assert pool.get(ds, "origin") == f"{pool.name}/images/{image}@base"
    assert elapsed < 2, elapsed  # bench/storage.py measures it properly

    conn = agent.mgr.export_volume(CTXT, vid, "127.0.0.1", user, PW)
    assert conn == {
        "iqn": f"iqn.2025-01.{agent.iqn_domain}:{vid}",
        "portal": f"127.0.0.1:{agent.tgtd.port}",
        "lun": 1,
    }
    out = io_ok(
        conn,
        user,
        "length",
        *image_pattern(),
        # grown to the volume's size, zeros past the image
        "read -P 0 64M 1M",
        "read -P 0 1023M 1M",
        "write -P 0x77 1M 1M",
        "read -P 0x77 1M 1M",
        tmp_path=tmp_path,
    )
    assert "1 GiB" in out
    # The write went to the clone, not to the image.
    img_file = os.path.join(pool.mountpoint, "images", image, "disk.raw")
    with open(img_file, "rb") as f:
        f.seek(MiB)
        assert f.read(MiB) == bytes(MiB)
    assert int(pool.get(ds, "used")) >= MiB

    agent.mgr.unexport_volume(CTXT, vid)
    agent.mgr.delete_volume(CTXT, vid)
    agent.mgr.delete_image(CTXT, image)
    nothing_left(agent)


def test_only_the_right_password_from_the_right_address(
    agent, image, tmp_path, caplog
):
    vid, user = new_id("volume"), "u-" + new_id("volume")
    agent.mgr.create_volume(CTXT, {"id": vid, "size_gb": 1, "image_id": image})
    caplog.set_level(logging.DEBUG)
    conn = agent.mgr.export_volume(CTXT, vid, "127.0.0.1", user, PW)
    # tgtadm takes the password on its command line; the log masks it.
    assert "--password ***" in caplog.text and PW not in caplog.text
    io_ok(conn, user, "read -P 0x5a 0 4k", tmp_path=tmp_path)
    assert "Authentication failure" in io_refused(
        conn, user, "Wrong-pass-0001", tmp_path
    )
    assert "Authentication failure" in io_refused(
        conn, "u-someoneelse", PW, tmp_path
    )
    # Another initiator address only: this one (127.0.0.1) cannot log in.
    agent.mgr.export_volume(CTXT, vid, "127.0.0.2", user, PW)
    assert "Failed to log in" in io_refused(conn, user, PW, tmp_path)
    # Back to this address, with a new password.
    agent.mgr.export_volume(CTXT, vid, "127.0.0.1", user, "Chap-pass-0002")
    assert "Authentication failure" in io_refused(conn, user, PW, tmp_path)
    io_ok(
        conn,
        user,
        "read -P 0x5a 0 4k",
        tmp_path=tmp_path,
        password="Chap-pass-0002",
    )
    agent.mgr.delete_volume(CTXT, vid)
    agent.mgr.delete_image(CTXT, image)
    nothing_left(agent)


def test_snapshots_volumes_from_them_and_what_deleting_refuses(
    agent, image, tmp_path
):
    a, b, snap = new_id("volume"), new_id("volume"), new_id("snapshot")
    ua, ub = "u-" + a, "u-" + b
    agent.mgr.create_volume(CTXT, {"id": a, "size_gb": 1, "image_id": image})
    conn_a = agent.mgr.export_volume(CTXT, a, "127.0.0.1", ua, PW)
    io_ok(conn_a, ua, "write -P 0x11 0 1M", tmp_path=tmp_path)
    assert agent.mgr.create_snapshot(CTXT, {"id": snap, "volume_id": a}) == {
        "id": snap,
        "volume_id": a,
    }
    io_ok(conn_a, ua, "write -P 0x22 0 1M", tmp_path=tmp_path)

    agent.mgr.create_volume(CTXT, {"id": b, "size_gb": 2, "snapshot_id": snap})
    conn_b = agent.mgr.export_volume(CTXT, b, "127.0.0.1", ub, PW)
    out = io_ok(
        conn_b,
        ub,
        "length",
        "read -P 0x11 0 1M",
        "read -P 0x33 32M 1M",
        "read -P 0 1G 1M",
        tmp_path=tmp_path,
    )
    assert "2 GiB" in out
    io_ok(conn_a, ua, "read -P 0x22 0 1M", tmp_path=tmp_path)

    with pytest.raises(errors.SnapshotHasDependents, match=b):
        agent.mgr.delete_snapshot(CTXT, snap)
    agent.mgr.unexport_volume(CTXT, a)
    with pytest.raises(errors.VolumeHasSnapshots, match=snap):
        agent.mgr.delete_volume(CTXT, a)

    # The image can go while volumes made from it live on.
    agent.mgr.delete_image(CTXT, image)
    assert agent.mgr.list_resources(CTXT)["images"] == []
    conn_a = agent.mgr.export_volume(CTXT, a, "127.0.0.1", ua, PW)
    io_ok(
        conn_a,
        ua,
        "read -P 0x22 0 1M",
        "read -P 0xc3 63M 1M",
        tmp_path=tmp_path,
    )
    io_ok(conn_b, ub, "read -P 0x11 0 1M", tmp_path=tmp_path)

    agent.mgr.delete_volume(CTXT, b)
    agent.mgr.delete_snapshot(CTXT, snap)
    agent.mgr.delete_volume(CTXT, a)
    nothing_left(agent)


def test_a_logged_in_initiator_keeps_its_volume(agent, image, tmp_path):
    vid, user = new_id("volume"), "u-" + new_id("volume")
    agent.mgr.create_volume(CTXT, {"id": vid, "size_gb": 1, "image_id": image})
    conn = agent.mgr.export_volume(CTXT, vid, "127.0.0.1", user, PW)
    secret = tmp_path / "chap"
    secret.write_text(PW)
    secret.chmod(0o600)
    # qemu-io without -c reads commands from stdin: logged in until "quit".
    proc = subprocess.Popen(
        [
            "qemu-io",
            "--object",
            f"secret,id=sec0,file={secret}",
            "--image-opts",
            (
                f"driver=raw,file.driver=iscsi,file.transport=tcp,"
                f"file.portal={conn['portal']},file.target={conn['iqn']},"
                f"file.lun=1,file.user={user},file.password-secret=sec0"
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: (
                [
                    e["sessions"]
                    for e in agent.mgr.list_resources(CTXT)["exports"]
                ]
                == [1]
            ),
            20,
            "initiator logged in",
        )
        with pytest.raises(errors.ExportBusy):
            agent.mgr.delete_volume(CTXT, vid)
        with pytest.raises(errors.ExportBusy):
            agent.mgr.unexport_volume(CTXT, vid)
    finally:
        proc.communicate("quit\n", timeout=30)
    wait_until(
        lambda: (
            [e["sessions"] for e in agent.mgr.list_resources(CTXT)["exports"]]
            == [0]
        ),
        20,
        "initiator logged out",
    )
    agent.mgr.delete_volume(CTXT, vid)
    agent.mgr.delete_image(CTXT, image)
    nothing_left(agent)


def test_exports_come_back_after_tgtd_restarts(agent, image, tmp_path):
    vols = [new_id("volume") for _ in range(2)]
    expected = []
    for v in vols:
        agent.mgr.create_volume(
            CTXT, {"id": v, "size_gb": 1, "image_id": image}
        )
        e = {
            "volume_id": v,
            "initiator_address": "127.0.0.1",
            "chap_user": "u-" + v,
            "chap_secret": PW,
        }
        conn = agent.mgr.export_volume(CTXT, **e)
        expected.append(e)
    io_ok(conn, "u-" + vols[1], "read -P 0x5a 0 4k", tmp_path=tmp_path)

    agent.tgtd.restart()
    assert agent.mgr.list_resources(CTXT)["exports"] == []
    io_refused(conn, "u-" + vols[1], PW, tmp_path)

    result = agent.mgr.rebuild_exports(CTXT, expected)
    assert result == {
        "restored": sorted(vols),
        "unchanged": [],
        "removed": [],
        "failed": {},
    }
    io_ok(conn, "u-" + vols[1], *image_pattern(), tmp_path=tmp_path)
    assert "Authentication failure" in io_refused(
        conn, "u-" + vols[1], "Wrong-pass-0001", tmp_path
    )
    assert agent.mgr.rebuild_exports(CTXT, expected)["unchanged"] == sorted(
        vols
    )
    # Nobody expects the first any more.
    assert agent.mgr.rebuild_exports(CTXT, expected[1:])["removed"] == [
        vols[0]
    ]

    for v in vols:
        agent.mgr.delete_volume(CTXT, v)
    agent.mgr.delete_image(CTXT, image)
    nothing_left(agent)


def test_the_same_message_twice_leaves_the_same_result(agent, image, tmp_path):
    vid, snap, user = new_id("volume"), new_id("snapshot"), "u-idem"
    spec = {"id": vid, "size_gb": 1, "image_id": image}
    first = agent.mgr.create_volume(CTXT, spec)
    assert agent.mgr.create_volume(CTXT, spec) == first
    conn = agent.mgr.export_volume(CTXT, vid, "127.0.0.1", user, PW)
    assert agent.mgr.export_volume(CTXT, vid, "127.0.0.1", user, PW) == conn
    assert len(agent.tgtd.tids()) == 1
    io_ok(conn, user, "read -P 0x5a 0 4k", tmp_path=tmp_path)
    agent.mgr.create_snapshot(CTXT, {"id": snap, "volume_id": vid})
    agent.mgr.create_snapshot(CTXT, {"id": snap, "volume_id": vid})
    path, sha = image_file(agent)
    agent.mgr.import_image(CTXT, image, path, sha, IMG_SIZE)
    res = agent.mgr.list_resources(CTXT)
    assert [v["id"] for v in res["volumes"]] == [vid]
    assert res["snapshots"] == [{"id": snap, "volume_id": vid}]
    assert [i["id"] for i in res["images"]] == [image]
    assert [e["volume_id"] for e in res["exports"]] == [vid]
    for _ in range(2):
        agent.mgr.unexport_volume(CTXT, vid)
    for _ in range(2):
        agent.mgr.delete_snapshot(CTXT, snap)
    for _ in range(2):
        agent.mgr.delete_volume(CTXT, vid)
    for _ in range(2):
        agent.mgr.delete_image(CTXT, image)
    nothing_left(agent)


def test_half_made_resources_are_made_again(agent, image, tmp_path):
    pool = agent.pool.name
    v1, v2, img2 = new_id("volume"), new_id("volume"), new_id("image")
    # What a crash leaves: datasets without the mark of completion.
    runner.run(["zfs", "create", f"{pool}/volumes/{v1}"])
    runner.run(
        ["zfs", "clone", f"{pool}/images/{image}@base", f"{pool}/volumes/{v2}"]
    )
    runner.run(["zfs", "create", f"{pool}/images/{img2}"])
    res = agent.mgr.list_resources(CTXT)
    assert {v["id"]: v["ready"] for v in res["volumes"]} == {
        v1: False,
        v2: False,
    }
    with pytest.raises(errors.VolumeNotFound):
        agent.mgr.export_volume(CTXT, v1, "127.0.0.1", "u-v1", PW)

    agent.mgr.create_volume(CTXT, {"id": v1, "size_gb": 1, "image_id": image})
    agent.mgr.create_volume(CTXT, {"id": v2, "size_gb": 1})  # blank
    conn1 = agent.mgr.export_volume(CTXT, v1, "127.0.0.1", "u-v1", PW)
    conn2 = agent.mgr.export_volume(CTXT, v2, "127.0.0.1", "u-v2", PW)
    io_ok(conn1, "u-v1", "read -P 0x5a 0 1M", tmp_path=tmp_path)
    io_ok(conn2, "u-v2", "read -P 0 0 1M", tmp_path=tmp_path)

    path, sha = image_file(agent)
    agent.mgr.import_image(CTXT, img2, path, sha, IMG_SIZE)
    assert {
        i["id"]: i["ready"] for i in agent.mgr.list_resources(CTXT)["images"]
    } == {image: True, img2: True}
    for v in (v1, v2):
        agent.mgr.delete_volume(CTXT, v)
    for i in (image, img2):
        agent.mgr.delete_image(CTXT, i)
    nothing_left(agent)


def test_image_bytes_that_do_not_match_leave_nothing(agent):
    iid = new_id("image")
    path = os.path.join(agent.import_dir, "bad.raw")
    make_image(path, 8 * MiB, {1: 0x42})
    with pytest.raises(errors.ImageDataInvalid):
        agent.mgr.import_image(CTXT, iid, path, "0" * 64, 8 * MiB)
    with pytest.raises(errors.ImageDataInvalid):
        agent.mgr.import_image(CTXT, iid, path, "0" * 64, 8 * MiB + 1)
    nothing_left(agent)
