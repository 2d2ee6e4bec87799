"""nsa's RPC endpoint over the fake driver: nothing unchecked reaches it."""

import pytest

from arame.agents.nsa.drivers.base import NetworkNotFound
from arame.agents.nsa.drivers.fake import FakeDriver
from arame.agents.nsa.manager import NSAManager
from arame.agents.nsa.records import InvalidRecord

from .conftest import NET_ID

CTXT = {}


class SpyDriver(FakeDriver):
    def __init__(self):
        super().__init__()
        self.reached = []

    def ensure_network(self, network):
        self.reached.append("ensure_network")
        return super().ensure_network(network)

    def add_reservation(self, network_id, res):
        self.reached.append("add_reservation")
        return super().add_reservation(network_id, res)

    def remove_reservation(self, network_id, mac):
        self.reached.append("remove_reservation")
        return super().remove_reservation(network_id, mac)

    def sync(self, network, reservations):
        self.reached.append("sync")
        return super().sync(network, reservations)

    def remove_network(self, network_id):
        self.reached.append("remove_network")
        return super().remove_network(network_id)


@pytest.fixture
def agent(parsed_conf, network_msg):
    drv = SpyDriver()
    mgr = NSAManager(drv)
    mgr.ensure_network(CTXT, network_msg)
    drv.reached.clear()
    return mgr, drv


def test_add_and_remove(agent):
    mgr, drv = agent
    out = mgr.add_reservation(
        CTXT, NET_ID, "52:54:00:AA:00:01", "10.20.0.5", "Web-1"
    )
    assert out == {
        "mac": "52:54:00:aa:00:01",
        "ip": "10.20.0.5",
        "hostname": "web-1",
    }
    mgr.add_reservation(
        CTXT, NET_ID, "52:54:00:aa:00:01", "10.20.0.5", "web-1"
    )
    assert mgr.status(CTXT)["networks"][NET_ID]["reservations"] == 1
    mgr.remove_reservation(CTXT, NET_ID, "52:54:00:aa:00:01")
    mgr.remove_reservation(CTXT, NET_ID, "52:54:00:aa:00:01")
    assert mgr.status(CTXT)["networks"][NET_ID]["reservations"] == 0
    assert drv.released == [(NET_ID, "52:54:00:aa:00:01", "10.20.0.5")]


@pytest.mark.parametrize(
    "args",
    [
        ("nw-ABCD1234", "52:54:00:aa:00:01", "10.20.0.5", "web"),
        ("../etc", "52:54:00:aa:00:01", "10.20.0.5", "web"),
        (NET_ID, "52:54:00:aa:00:zz", "10.20.0.5", "web"),
        (NET_ID, "52:54:00:aa:00:01", "10.99.0.5", "web"),
        (NET_ID, "52:54:00:aa:00:01", "10.20.0.5", "web;reboot"),
        (NET_ID, "52:54:00:aa:00:01", "10.20.0.5", "web\n1.2.3.4 x"),
    ],
)
def test_bad_arguments_never_reach_the_driver(agent, args):
    mgr, drv = agent
    with pytest.raises(InvalidRecord):
        mgr.add_reservation(CTXT, *args)
    with pytest.raises(InvalidRecord):
        mgr.sync(
            CTXT,
            {
                "id": args[0],
                "cidr": "10.20.0.0/24",
                "gateway": "10.20.0.1",
                "dns_domain": "t.test",
                "bridge": "br0",
            },
            [{"mac": args[1], "ip": args[2], "hostname": args[3]}],
        )
    assert drv.reached == []


def test_bad_network_never_reaches_the_driver(agent, network_msg):
    mgr, drv = agent
    with pytest.raises(InvalidRecord):
        mgr.ensure_network(CTXT, dict(network_msg, bridge="br0 up"))
    with pytest.raises(InvalidRecord):
        mgr.remove_network(CTXT, "nw-x")
    with pytest.raises(InvalidRecord):
        mgr.remove_reservation(CTXT, NET_ID, "zz")
    assert drv.reached == []


def test_reservation_on_a_network_not_served(agent):
    mgr, _ = agent
    with pytest.raises(NetworkNotFound):
        mgr.add_reservation(
            CTXT, "nw-00000000", "52:54:00:aa:00:01", "10.20.0.5", "web"
        )
    assert (
        mgr.remove_reservation(CTXT, "nw-00000000", "52:54:00:aa:00:01") == {}
    )


def test_sync_and_inventory(agent, network_msg):
    mgr, _ = agent
    mgr.add_reservation(CTXT, NET_ID, "52:54:00:aa:00:01", "10.20.0.5", "a")
    counts = mgr.sync(
        CTXT,
        network_msg,
        [
            {"mac": "52:54:00:aa:00:02", "ip": "10.20.0.6", "hostname": "b"},
            {"mac": "52:54:00:aa:00:03", "ip": "10.20.0.7", "hostname": "c"},
        ],
    )
    assert counts == {"written": 2, "dropped": 1}
    assert mgr.inventory() == {
        "networks": [{"id": NET_ID, "reservations": 2, "running": True}],
        "reservations": 2,
    }
    mgr.remove_network(CTXT, NET_ID)
    assert mgr.inventory() == {"networks": [], "reservations": 0}


def test_ping_still_answers(agent):
    mgr, _ = agent
    assert mgr.ping(CTXT)["binary"] == "arame-nsa"
