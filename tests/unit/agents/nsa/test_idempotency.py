"""Every nsa operation asked twice gives the same answer and serves the
same names (manager.py's rule): through the manager over the fake driver
and over the dnsmasq driver (dnsmasq, the plumbing and the clock
replaced), then the plumbing where `ip` answers "File exists"."""

import os
import signal

import pytest

from arame.agents.nsa import plumbing
from arame.agents.nsa.drivers import dnsmasq as dnsmasq_driver
from arame.agents.nsa.drivers.base import NetworkNotFound
from arame.agents.nsa.drivers.dnsmasq import DnsmasqDriver
from arame.agents.nsa.drivers.fake import FakeDriver
from arame.agents.nsa.manager import NSAManager
from arame.common import runner

from .conftest import NET_ID, FakePlumbing, FakeSupervisor

CTXT = {}
MAC, MAC2 = "52:54:00:00:00:01", "52:54:00:00:00:02"


@pytest.fixture
def dnsmasq_mgr(
    nsa_conf_registered, tmp_path, fake_timer, fake_supervisors, monkeypatch
):
    monkeypatch.setattr(dnsmasq_driver.runner, "run", lambda args, **kw: None)
    drv = DnsmasqDriver(str(tmp_path), "labns", timer=fake_timer)
    drv.plumbing = FakePlumbing()
    return NSAManager(drv)


@pytest.fixture(params=["fake", "dnsmasq"])
def mgr(request, nsa_conf_registered):
    if request.param == "fake":
        return NSAManager(FakeDriver())
    return request.getfixturevalue("dnsmasq_mgr")


def twice(op, *args):
    first, second = op(CTXT, *args), op(CTXT, *args)
    assert first == second
    return second


def served(mgr) -> dict:
    """network id -> the (mac, ip, hostname) it serves."""
    return {
        nid: sorted(
            (r.mac, str(r.ip), r.hostname)
            for r in mgr.driver.reservations(nid)
        )
        for nid in mgr.driver.networks()
    }


def reloads(mgr) -> int:
    """SIGHUPs a dnsmasq got (sent or waiting for the window to close)."""
    st = mgr.status(CTXT)["networks"].get(NET_ID) or {}
    return st.get("reloads", 0) + int(st.get("reload_pending", False))


def test_ensure_network_twice_serves_it_once(mgr, network_msg):
    twice(mgr.ensure_network, network_msg)
    assert served(mgr) == {NET_ID: []}
    if isinstance(mgr.driver, DnsmasqDriver):
        assert len(FakeSupervisor.made) == 1  # never restarted


def test_remove_network_twice_and_of_one_never_served(mgr, network_msg):
    mgr.ensure_network(CTXT, network_msg)
    assert twice(mgr.remove_network, NET_ID) == {}
    assert mgr.remove_network(CTXT, "nw-ffff0000") == {}
    assert served(mgr) == {}


def test_add_reservation_twice_writes_once(mgr, network_msg):
    mgr.ensure_network(CTXT, network_msg)
    answer = twice(mgr.add_reservation, NET_ID, MAC, "10.20.0.11", "web-1")
    assert answer == {"mac": MAC, "ip": "10.20.0.11", "hostname": "web-1"}
    assert served(mgr) == {NET_ID: [(MAC, "10.20.0.11", "web-1")]}
    assert reloads(mgr) == 0


def test_remove_reservation_twice_reloads_once(mgr, network_msg):
    mgr.ensure_network(CTXT, network_msg)
    mgr.add_reservation(CTXT, NET_ID, MAC, "10.20.0.11", "web-1")
    assert twice(mgr.remove_reservation, NET_ID, MAC) == {}
    assert mgr.remove_reservation(CTXT, NET_ID, MAC2) == {}
    assert mgr.remove_reservation(CTXT, "nw-ffff0000", MAC) == {}
    assert served(mgr) == {NET_ID: []}
    assert reloads(mgr) == 1


def test_sync_twice_changes_nothing_the_second_time(mgr, network_msg):
    wanted = [
        {"mac": MAC, "ip": "10.20.0.11", "hostname": "web-1"},
        {"mac": MAC2, "ip": "10.20.0.12", "hostname": "web-2"},
    ]
    assert mgr.sync(CTXT, network_msg, wanted) == {"written": 2, "dropped": 0}
    assert mgr.sync(CTXT, network_msg, wanted) == {"written": 0, "dropped": 0}
    assert len(served(mgr)[NET_ID]) == 2


def test_add_on_a_network_not_served_is_refused(mgr):
    with pytest.raises(NetworkNotFound):
        mgr.add_reservation(CTXT, NET_ID, MAC, "10.20.0.11", "web-1")


def test_dnsmasq_removal_asked_twice_sends_one_sighup(
    dnsmasq_mgr, network_msg, fake_timer, tmp_path
):
    mgr = dnsmasq_mgr
    mgr.ensure_network(CTXT, network_msg)
    mgr.add_reservation(CTXT, NET_ID, MAC, "10.20.0.11", "web-1")
    for _ in range(2):
        mgr.remove_reservation(CTXT, NET_ID, MAC)
        for t in fake_timer.made:
            t.fire()
    assert FakeSupervisor.made[0].signals == [signal.SIGHUP]
    root = os.path.join(str(tmp_path), NET_ID)
    assert os.listdir(os.path.join(root, "dhcp-hosts.d")) == []


# -- the plumbing when `ip` says it is there already ----------------------
class RacingIp:
    """`ip` where the bridge and its address appear between the look and
    the add (another process on the namespace): the look says absent, the
    add says "File exists"."""

    def __init__(self, refusal="RTNETLINK answers: File exists"):
        self.refusal = refusal
        self.calls = []

    def __call__(self, args, netns=None, **kw):
        args = list(args)
        self.calls.append(args)
        if args[1:3] in (["link", "add"], ["addr", "add"]):
            msg = (
                self.refusal
                if args[1] == "link"
                else "Error: ipv4: Address already assigned."
            )
            raise runner.CommandError(args, msg, exit_code=2, stderr=msg)
        if args[:3] == ["ip", "-j", "link"]:
            return runner.Result(args, 1, "", "Device does not exist")
        return runner.Result(args, 0, "[]", "")


def test_a_bridge_and_address_made_meanwhile_are_left_as_they_are(
    monkeypatch,
):
    ip = RacingIp()
    monkeypatch.setattr(runner, "run", ip)
    # Not made here: a later remove must not delete someone else's bridge.
    assert plumbing.ensure("br-abcd1234", "10.20.0.1/24", 1450, None) is False
    assert ["ip", "link", "set", "br-abcd1234", "up"] in ip.calls
    assert not any(
        c[1:4] == ["link", "set", "br-abcd1234"] and "mtu" in c
        for c in ip.calls
    )


def test_other_ip_failures_still_fail(monkeypatch):
    monkeypatch.setattr(
        runner, "run", RacingIp("RTNETLINK answers: Operation not permitted")
    )
    with pytest.raises(runner.CommandError, match="not permitted"):
        plumbing.ensure("br-abcd1234", "10.20.0.1/24", 1450, None)
