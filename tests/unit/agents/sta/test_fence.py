"""Fencing an initiator: the tgt driver's tgtadm calls (emulated tgtd),
the fake target, and the manager's checks and memory of the fence."""

import pytest

from arame.agents.sta import errors
from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.fake import FakeTarget
from arame.agents.sta.targets.tgt import TgtTarget
from arame.agents.sta.targets.tgt_show import (
    Connection,
    parse_connections,
)

CTXT = {}
PW = "Secret-pass-0001"
VOL, VOL2, VOL3 = "vol-aaaa0001", "vol-aaaa0002", "vol-aaaa0003"
DEAD, ALIVE = "10.0.0.5", "10.0.0.6"


def test_parse_connections():
    text = (
        "Session: 2\n    Connection: 0\n"
        "        Initiator: iqn.2008-11.org.linux-kvm\n"
        "        IP Address: ::1\n"
        "Session: 1\n    Connection: 0\n"
        "        Initiator: iqn.2008-11.org.linux-kvm\n"
        "        IP Address: 127.0.0.1\n"
    )
    assert parse_connections(text) == [
        Connection(2, 0, "::1"),
        Connection(1, 0, "127.0.0.1"),
    ]
    assert parse_connections("") == []


@pytest.fixture
def tgt(tgt_emu):
    return TgtTarget(
        "192.0.2.10", 3260, "2025-01", "org.arame", control_port=7
    )


def _tid(emu, vol):
    return next(t for t in emu.targets.values() if t.iqn.endswith(vol))


def test_tgt_fence_acl_first_then_sessions_everywhere(tgt, tgt_emu):
    tgt.export(VOL, "/p/1", DEAD, "u-1", PW)
    tgt.export(VOL2, "/p/2", ALIVE, "u-2", PW)
    # VOL3 was re-exported to ALIVE: DEAD's session there outlived it.
    tgt.export(VOL3, "/p/3", ALIVE, "u-3", PW)
    t1, t2, t3 = (_tid(tgt_emu, v) for v in (VOL, VOL2, VOL3))
    t1.sessions, t1.peers = 1, [DEAD]
    t2.sessions, t2.peers = 1, [ALIVE]
    t3.sessions, t3.peers = 2, [ALIVE, DEAD]
    # Not ours (another IQN prefix): left alone.
    tgt_emu.targets[99] = type(t1)(99, "iqn.2025-01.org.other:x", acl=[DEAD])
    since = len(tgt_emu.calls)

    assert tgt.fence(DEAD) == {"revoked": [VOL], "sessions_closed": 2}

    assert (t1.acl, t2.acl, t3.acl) == ([], [ALIVE], [ALIVE])
    assert tgt_emu.targets[99].acl == [DEAD]
    assert (t1.sessions, t2.sessions, t3.sessions) == (0, 1, 1)
    assert t3.peers == [ALIVE]
    changes = [
        (c[c.index("--op") + 1], c[c.index("--mode") + 1])
        for c in tgt_emu.calls[since:]
        if "show" not in c
    ]
    # No connection closed before every ACL lost the address: the
    # initiator logs in again at once.
    assert changes == [
        ("unbind", "target"),
        ("delete", "conn"),
        ("delete", "conn"),
    ]
    assert tgt.fence(DEAD) == {"revoked": [], "sessions_closed": 0}
    assert tgt.list_exports()[VOL].initiators == ()


def test_tgt_fence_matches_addresses_as_addresses(tgt, tgt_emu):
    tgt.export(VOL, "/p/1", "fd00::5", "u-1", PW)
    t1 = _tid(tgt_emu, VOL)
    t1.acl = ["fd00:0::5"]
    t1.sessions, t1.peers = 1, ["::ffff:10.0.0.5"]
    assert tgt.fence("fd00::5") == {"revoked": [VOL], "sessions_closed": 0}
    assert tgt.fence(DEAD) == {"revoked": [], "sessions_closed": 1}


def test_tgt_fence_failure_is_a_storage_error(tgt, tgt_emu, monkeypatch):
    tgt.export(VOL, "/p/1", DEAD, "u-1", PW)

    def broken(args, o):
        from tests.unit.agents.sta.emulators import _fail

        _fail(args, "tgtadm: out of memory", 22)

    monkeypatch.setattr(tgt_emu, "_do", broken)
    with pytest.raises(errors.StorageError, match="fencing of 10.0.0.5"):
        tgt.fence(DEAD)


@pytest.fixture
def agent():
    backend, target = FakeBackend(), FakeTarget(address="192.0.2.10")
    mgr = STAManager(backend, target, max_volume_gb=100, import_dirs=[])
    for v in (VOL, VOL2):
        mgr.create_volume(CTXT, {"id": v, "size_gb": 1})
    return mgr, target


def _export(mgr, vol, address):
    return mgr.export_volume(CTXT, vol, address, f"u-{vol}", PW)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "host.example",
        "10.0.0.5; rm -rf /",
        "-I",
        None,
        5,
        "::g",
        "010.0.0.5",
    ],
)
def test_only_an_ip_address_is_fenced(agent, bad):
    mgr, target = agent
    with pytest.raises(errors.InvalidRequest):
        mgr.fence_initiator(CTXT, bad)
    assert mgr._fenced == set()


def test_fence_through_the_manager_and_no_rebuild_binds_it_again(agent):
    mgr, target = agent
    _export(mgr, VOL, DEAD)
    _export(mgr, VOL2, ALIVE)
    assert target.login(VOL, DEAD, f"u-{VOL}", PW)
    assert mgr.fence_initiator(CTXT, DEAD) == {
        "revoked": [VOL],
        "sessions_closed": 1,
    }
    assert not target.login(VOL, DEAD, f"u-{VOL}", PW)
    assert target.login(VOL2, ALIVE, f"u-{VOL2}", PW)
    assert mgr.fence_initiator(CTXT, DEAD) == {
        "revoked": [],
        "sessions_closed": 0,
    }

    # The controller's records still put the instance on the dead host
    # (its evacuation has not moved it yet): the rebuild leaves it out.
    expected = [
        {
            "volume_id": v,
            "initiator_address": a,
            "chap_user": f"u-{v}",
            "chap_secret": PW,
        }
        for v, a in ((VOL, DEAD), (VOL2, ALIVE))
    ]
    result = mgr.rebuild_exports(CTXT, expected)
    assert result["failed"] == {VOL: f"initiator {DEAD} is fenced"}
    assert result["unchanged"] == [VOL2] and result["removed"] == []
    # Its target stays as the fence left it: no address in its ACL.
    assert target.list_exports()[VOL].initiators == ()
    assert not target.login(VOL, DEAD, f"u-{VOL}", PW)

    # The evacuation re-exports the volume to the new host.
    _export(mgr, VOL, "10.0.0.7")
    assert target.login(VOL, "10.0.0.7", f"u-{VOL}", PW)
    # An explicit export to the old address (the host is back and in
    # service) lifts the fence.
    _export(mgr, VOL, DEAD)
    assert target.login(VOL, DEAD, f"u-{VOL}", PW)
    assert DEAD not in mgr._fenced


def test_fence_initiator_over_the_bus(bus, parsed_conf, agent):
    from arame.agents.sta import rpcapi
    from arame.agents.sta.manager import RPCEndpoint
    from arame.common import rpc
    from arame.common.context import admin_context

    mgr, target = agent
    _export(mgr, VOL, DEAD)
    server = rpc.get_server(rpcapi.TOPIC, "st1", [RPCEndpoint(mgr)])
    server.start()
    try:
        api = rpcapi.STAAPI()
        assert api.VERSION_CAP == "1.3"
        got = api.fence_initiator(admin_context(), "st1", DEAD, timeout=10)
        assert got == {"revoked": [VOL], "sessions_closed": 0}
        with pytest.raises(Exception, match="InvalidRequest|not an IP"):
            api.fence_initiator(admin_context(), "st1", "a b", timeout=10)
    finally:
        server.stop()
        server.wait()
