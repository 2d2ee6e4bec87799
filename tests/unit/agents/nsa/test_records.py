"""Every identifier, address and name is checked before use."""

import pytest

from arame.agents.nsa import records
from arame.agents.nsa.records import InvalidRecord


def test_network_message_is_parsed(network_msg):
    net = records.parse_network(network_msg)
    assert str(net.cidr) == "10.20.0.0/24"
    assert str(net.dhcp_address) == "10.20.0.1"  # the gateway by default
    assert net.server_interface == "10.20.0.1/24"
    assert net.mtu == 1450 and net.bridge == "br-abcd1234"
    assert records.parse_network(net.to_message()) == net


def test_dhcp_address_may_differ_from_gateway(network_msg):
    network_msg["dhcp_address"] = "10.20.0.2"
    net = records.parse_network(network_msg)
    assert str(net.dhcp_address) == "10.20.0.2"
    assert str(net.gateway) == "10.20.0.1"


@pytest.mark.parametrize(
    "field,value",
    [
        ("id", "i-abcd1234"),
        ("id", "nw-abc"),
        ("id", "nw-abcd1234; rm"),
        ("cidr", "10.20.0.1/24"),
        ("cidr", "10.20.0.0/31"),
        ("cidr", "fe80::/64"),
        ("cidr", None),
        ("gateway", "10.21.0.1"),
        ("gateway", "10.20.0.255"),
        ("gateway", "x"),
        ("dns_domain", "bad_domain.test"),
        ("dns_domain", "-a.test"),
        ("dns_domain", ""),
        ("dhcp_ranges", [["10.20.0.50", "10.20.0.10"]]),
        ("dhcp_ranges", [["10.20.0.10", "10.30.0.10"]]),
        ("dhcp_ranges", ["x"]),
        ("mtu", 100),
        ("mtu", "1450"),
        ("mtu", True),
        ("bridge", "br0;reboot"),
        ("bridge", "a-very-long-bridge-name"),
        ("bridge", "-br"),
        ("bridge", None),
    ],
)
def test_bad_network_is_refused(network_msg, field, value):
    network_msg[field] = value
    with pytest.raises(InvalidRecord):
        records.parse_network(network_msg)


def test_network_needs_an_address_to_listen_on(network_msg):
    network_msg["gateway"] = None
    with pytest.raises(InvalidRecord, match="neither"):
        records.parse_network(network_msg)
    network_msg["dhcp_address"] = "10.20.0.2"
    assert records.parse_network(network_msg).gateway is None


def test_reservation_is_normalised(network):
    r = records.parse_reservation(
        network, "52:54:00:AB:CD:EF", "10.20.0.5", "Web-1"
    )
    assert (r.mac, str(r.ip), r.hostname) == (
        "52:54:00:ab:cd:ef",
        "10.20.0.5",
        "web-1",
    )


@pytest.mark.parametrize(
    "mac,ip,hostname",
    [
        ("52:54:00:ab:cd", "10.20.0.5", "web"),  # short MAC
        ("52-54-00-ab-cd-ef", "10.20.0.5", "web"),  # wrong separator
        ("01:00:5e:00:00:01", "10.20.0.5", "web"),  # multicast
        ("52:54:00:ab:cd:ef\n", "10.20.0.5", "web"),
        ("52:54:00:ab:cd:ef", "10.21.0.5", "web"),  # outside the cidr
        ("52:54:00:ab:cd:ef", "10.20.0.0", "web"),  # network address
        ("52:54:00:ab:cd:ef", "10.20.0.255", "web"),  # broadcast
        ("52:54:00:ab:cd:ef", "10.20.0.1", "web"),  # the gateway / dnsmasq
        ("52:54:00:ab:cd:ef", "10.20.0.5 ", "web"),
        ("52:54:00:ab:cd:ef", 42, "web"),
        ("52:54:00:ab:cd:ef", "10.20.0.5", "-web"),
        ("52:54:00:ab:cd:ef", "10.20.0.5", "web-"),
        ("52:54:00:ab:cd:ef", "10.20.0.5", "web.example"),
        ("52:54:00:ab:cd:ef", "10.20.0.5", "web_1"),
        ("52:54:00:ab:cd:ef", "10.20.0.5", "a" * 64),
        ("52:54:00:ab:cd:ef", "10.20.0.5", ""),
        ("52:54:00:ab:cd:ef", "10.20.0.5", "web\n10.0.0.1 evil"),
        ("52:54:00:ab:cd:ef", "10.20.0.5", None),
    ],
)
def test_bad_reservation_is_refused(network, mac, ip, hostname):
    with pytest.raises(InvalidRecord):
        records.parse_reservation(network, mac, ip, hostname)


def test_full_list_refuses_duplicates(network):
    ok = [
        {"mac": "52:54:00:00:00:01", "ip": "10.20.0.5", "hostname": "a"},
        {"mac": "52:54:00:00:00:02", "ip": "10.20.0.6", "hostname": "b"},
    ]
    assert len(records.parse_reservations(network, ok)) == 2
    for dup in (
        {"mac": "52:54:00:00:00:01", "ip": "10.20.0.7", "hostname": "c"},
        {"mac": "52:54:00:00:00:03", "ip": "10.20.0.5", "hostname": "c"},
        {"mac": "52:54:00:00:00:03", "ip": "10.20.0.7", "hostname": "a"},
    ):
        with pytest.raises(InvalidRecord, match="twice"):
            records.parse_reservations(network, ok + [dup])
    with pytest.raises(InvalidRecord):
        records.parse_reservations(network, "not a list")
