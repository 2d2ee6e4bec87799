"""Fencing an initiator on real tgtd, with qemu's iSCSI initiator.

Two initiators on one machine need two source addresses: a connection
to 127.0.0.x leaves from 127.0.0.1 whatever x, but one to [::1] leaves
from ::1. So the fenced host X is ::1 (tgtd gets a second portal there)
and the host that stays, Y, is 127.0.0.1. Not the other way round: tgtd
lets a 127.0.0.1 peer through an ACL that holds only ::1.
"""

import os
import subprocess
import uuid

import pytest

from tests.helpers.waiting import wait_until

from .initiator import iscsi_io, new_id

CTXT = {}
PW = "Chap-pass-0001"
X, Y = "::1", "127.0.0.1"


@pytest.fixture
def v6_portal(agent):
    portal = f"[::1]:{agent.tgtd.port}"
    agent.tgtd.adm(
        "--op", "new", "--mode", "portal", "--param", f"portal={portal}"
    )
    yield portal
    agent.tgtd.adm(
        "--op", "delete", "--mode", "portal", "--param", f"portal={portal}"
    )


class Session:
    """qemu-io logged in until quit: commands on its stdin, one by one."""

    def __init__(self, conn, tmp_path):
        self.secret = tmp_path / f"chap-{uuid.uuid4().hex[:6]}"
        self.secret.write_text(PW)
        self.secret.chmod(0o600)
        self.proc = subprocess.Popen(
            [
                "qemu-io",
                "--object",
                f"secret,id=sec0,file={self.secret}",
                "--image-opts",
                (
                    "driver=raw,file.driver=iscsi,file.transport=tcp,"
                    f"file.portal={conn['portal']},"
                    f"file.target={conn['iqn']},file.lun={conn['lun']},"
                    f"file.user={conn['user']},file.password-secret=sec0"
                ),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def quit(self, timeout=30) -> str:
        """What it printed; killed (ours, by its handle) if it hangs."""
        try:
            out, _ = self.proc.communicate("read 0 4k\nquit\n", timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def sessions(agent, vid) -> int:
    return {
        e["volume_id"]: e["sessions"]
        for e in agent.mgr.list_resources(CTXT)["exports"]
    }[vid]


def login(conn, tmp_path):
    return iscsi_io(
        conn, conn["user"], PW, "read 0 4k", secret_dir=str(tmp_path)
    )


def test_fencing_closes_the_session_and_refuses_the_next_login(
    agent, v6_portal, tmp_path
):
    a, b = new_id("volume"), new_id("volume")
    conns, held = {}, []
    try:
        for vid, addr in ((a, X), (b, Y)):
            agent.mgr.create_volume(CTXT, {"id": vid, "size_gb": 1})
            user = "u-" + vid
            conn = agent.mgr.export_volume(CTXT, vid, addr, user, PW)
            conns[vid] = {**conn, "user": user}
        conns[a]["portal"] = v6_portal  # X reaches tgtd from ::1
        for vid in (a, b):
            held.append(Session(conns[vid], tmp_path))
        wait_until(
            lambda: (sessions(agent, a), sessions(agent, b)) == (1, 1),
            30,
            "X logged in to a, Y to b",
        )

        got = agent.mgr.fence_initiator(CTXT, X)

        assert got == {"revoked": [a], "sessions_closed": 1}
        exports = agent.mgr.list_resources(CTXT)["exports"]
        assert {e["volume_id"]: e["initiators"] for e in exports} == {
            a: (),
            b: (Y,),
        }
        # The open session is gone, and its initiator's reconnection
        # (libiscsi tries at once) is refused: a's sessions stay at 0 while
        # X's qemu-io, asked to read, fails.
        wait_until(lambda: sessions(agent, a) == 0, 20, "X's session closed")
        # Its read blocks (libiscsi retries the refused login): it is
        # killed after the deadline, having read nothing.
        out = held[0].quit(timeout=5)
        assert "read 4096/4096" not in out, out
        assert sessions(agent, a) == 0
        p = login(conns[a], tmp_path)
        assert p.returncode != 0, p.stdout
        assert "Failed to log in" in p.stderr, p.stderr

        # Y, exported the same way, is untouched: its open session reads,
        # and it logs in anew.
        assert sessions(agent, b) == 1
        assert "read 4096/4096" in held[1].quit()
        p = login(conns[b], tmp_path)
        assert p.returncode == 0, p.stdout + p.stderr

        # The controller's records still place a on X (its evacuation has
        # not moved it yet): a rebuild leaves it out, tgtd's ACL stays.
        rebuilt = agent.mgr.rebuild_exports(
            CTXT,
            [
                {
                    "volume_id": vid,
                    "initiator_address": addr,
                    "chap_user": conns[vid]["user"],
                    "chap_secret": PW,
                }
                for vid, addr in ((a, X), (b, Y))
            ],
        )
        assert rebuilt["failed"] == {a: f"initiator {X} is fenced"}
        assert rebuilt["unchanged"] == [b] and rebuilt["removed"] == []
        assert login(conns[a], tmp_path).returncode != 0

        # Again: nothing left to do.
        assert agent.mgr.fence_initiator(CTXT, X) == {
            "revoked": [],
            "sessions_closed": 0,
        }
    finally:
        for s in held:
            s.close()
        for vid in conns:
            wait_until(lambda v=vid: sessions(agent, v) == 0, 20)
            agent.mgr.delete_volume(CTXT, vid)
    assert agent.leftovers() == ([], [])
    assert not os.listdir(tmp_path / "import")
