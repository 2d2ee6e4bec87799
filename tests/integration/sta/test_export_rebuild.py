"""Exports survive a tgtd restart without anyone asking: the agent's
periodic check (service.export_keeper) notices tgtd lost its targets, asks
the collector (a stand-in answering as CollectorManager.expected_exports
does) and rebuilds them; an initiator reads through them with CHAP again.

Real zfs-fuse, a real tgtd killed and started again on the same control
port (conftest's Tgtd.restart), qemu's own initiator."""

import hashlib
import os
import threading

import pytest

from arame.agents.sta import service
from arame.common.conf import CONF
from tests.helpers.waiting import wait_until

from .initiator import MiB, iscsi_io, make_image, new_id

CTXT = {}
PW = "Chap-pass-0002"
SIZE = 16 * MiB
MARKS = {0: 0x6B, 8: 0x2C}
DEADLINE = 20  # seconds: a few check intervals plus a tgtadm round


class StandInCollector:
    """Answers expected_exports from a list; fails `fail_next` calls first
    (the collector down when tgtd restarts: the check must try again)."""

    def __init__(self, exports: list[dict]):
        self.exports = exports
        self.calls = 0
        self.fail_next = 0
        self._lock = threading.Lock()

    def expected_exports(self, ctxt, node, timeout):
        with self._lock:
            self.calls += 1
            if self.fail_next:
                self.fail_next -= 1
                raise TimeoutError("collector not answering")
        return {"exports": [dict(e) for e in self.exports]}


@pytest.fixture
def interval():
    CONF.set_override("export_check_interval", 0.3, group="sta")
    CONF.set_override("host", "st-export-test")
    yield 0.3
    CONF.clear_override("export_check_interval", group="sta")
    CONF.clear_override("host")


def read(conn, user, password, tmp_path, *commands):
    return iscsi_io(conn, user, password, *commands, secret_dir=str(tmp_path))


def test_the_periodic_check_restores_exports_after_tgtd_restarts(
    agent, interval, tmp_path, monkeypatch
):
    listed = []
    real_list = agent.target.list_exports

    def counting_list():
        listed.append(1)
        return real_list()

    monkeypatch.setattr(agent.target, "list_exports", counting_list)
    path = os.path.join(agent.import_dir, "disk.raw")
    make_image(path, SIZE, MARKS)
    with open(path, "rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    image = new_id("image")
    agent.mgr.import_image(CTXT, image, path, sha, SIZE)
    vols = sorted(new_id("volume") for _ in range(2))
    exports, conns = [], {}
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
        conns[v] = agent.mgr.export_volume(CTXT, **e)
        exports.append({**e, "iqn": conns[v]["iqn"]})
    collector = StandInCollector(exports)
    keeper = service.export_keeper(agent.mgr, collector=collector)
    keeper.start()
    try:
        # The start-up resync: everything already there is left alone.
        wait_until(lambda: collector.calls >= 1, DEADLINE, "start-up resync")
        calls_before = collector.calls
        v = vols[1]
        ok = read(conns[v], "u-" + v, PW, tmp_path, "read -P 0x6b 0 1M")
        assert ok.returncode == 0, ok.stdout + ok.stderr

        collector.fail_next = 1
        old_pid = agent.tgtd.proc.pid
        agent.tgtd.restart()  # killed; a new one on the same port
        assert agent.tgtd.proc.pid != old_pid
        wait_until(
            lambda: set(real_list()) == set(vols),
            DEADLINE,
            "exports restored by the periodic check",
        )
        # Asked once and refused, then asked again; no check in between
        # found anything to do.
        assert collector.calls >= calls_before + 2

        for v in vols:
            p = read(
                conns[v],
                "u-" + v,
                PW,
                tmp_path,
                "read -P 0x6b 0 1M",
                "read -P 0x2c 8M 1M",
                "read -P 0 4M 1M",
            )
            assert p.returncode == 0, p.stdout + p.stderr
            assert "verification failed" not in p.stdout
        bad = read(
            conns[vols[0]],
            "u-" + vols[0],
            "Wrong-pass-0002",
            tmp_path,
            "read 0 4k",
        )
        assert bad.returncode != 0
        assert "Authentication failure" in bad.stdout + bad.stderr

        # Steady state: the check lists tgtd and asks nobody.
        settled, checks = collector.calls, len(listed)
        wait_until(lambda: len(listed) >= checks + 2, DEADLINE, "two checks")
        assert collector.calls == settled
    finally:
        keeper.stop()
    for v in vols:
        agent.mgr.delete_volume(CTXT, v)
    agent.mgr.delete_image(CTXT, image)
    assert agent.leftovers() == ([], [])
