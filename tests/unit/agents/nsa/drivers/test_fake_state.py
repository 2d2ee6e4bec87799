"""[fake_nsa] state_file: the fake networks and reservations outlive the
agent, as the dnsmasq driver's state directory does."""

import json

from arame.agents.nsa import records
from arame.agents.nsa.drivers.fake import FakeDriver

from ..conftest import NET_ID, res

PXE = "#!ipxe\nchain http://10.20.0.1/boot\n"


def test_in_memory_by_default(nsa_conf_registered, network):
    FakeDriver().ensure_network(network)
    assert FakeDriver().networks() == {}


def test_a_new_driver_on_the_file_serves_the_same(
    nsa_conf_registered, config, tmp_path, network
):
    path = tmp_path / "nsa.json"
    config("state_file", str(path), group="fake_nsa")
    d = FakeDriver()
    d.ensure_network(network)
    d.add_reservation(NET_ID, res(1))
    d.add_reservation(NET_ID, res(2))
    pxe = records.Reservation(res(3).mac, res(3).ip, "node3", PXE)
    d.add_reservation(NET_ID, pxe)
    d.remove_reservation(NET_ID, res(2).mac)
    # The agent is killed; the next one reads the file.
    again = FakeDriver()
    assert again.networks() == {NET_ID: network}
    assert sorted(again.reservations(NET_ID), key=lambda r: r.mac) == [
        res(1),
        pxe,
    ]
    doc = json.loads(path.read_text())
    assert doc["networks"][NET_ID]["network"]["cidr"] == "10.20.0.0/24"
    assert [r["mac"] for r in doc["networks"][NET_ID]["reservations"]] == [
        res(1).mac,
        res(3).mac,
    ]
    again.remove_network(NET_ID)
    assert FakeDriver().networks() == {}
    assert json.loads(path.read_text()) == {"networks": {}}


def test_changed_settings_keep_what_fits_and_load_again(
    nsa_conf_registered, config, tmp_path, network
):
    config("state_file", str(tmp_path / "nsa.json"), group="fake_nsa")
    d = FakeDriver()
    d.ensure_network(network)
    d.add_reservation(NET_ID, res(1))
    d.add_reservation(NET_ID, res(2, ip=200))
    smaller = records.parse_network(
        dict(network.to_message(), cidr="10.20.0.0/25", dhcp_ranges=[])
    )
    d.ensure_network(smaller)
    assert FakeDriver().reservations(NET_ID) == [res(1)]


def test_a_write_cut_short_leaves_the_state_before_it(
    nsa_conf_registered, config, tmp_path, network
):
    config("state_file", str(tmp_path / "nsa.json"), group="fake_nsa")
    d = FakeDriver()
    d.ensure_network(network)
    d.add_reservation(NET_ID, res(1))
    (tmp_path / "nsa.json.tmp").write_text('{"networks": {"nw-')
    assert FakeDriver().reservations(NET_ID) == [res(1)]
