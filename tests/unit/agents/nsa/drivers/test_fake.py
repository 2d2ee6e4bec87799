from arame.agents.nsa.drivers.fake import FakeDriver

from ..conftest import res


def test_fake_keeps_the_contract(network):
    d = FakeDriver()
    d.ensure_network(network)
    d.ensure_network(network)
    d.add_reservation(network.id, res(1))
    d.add_reservation(network.id, res(1))
    assert d.network_status(network.id) == {
        "reservations": 1,
        "running": True,
        "reloads": 0,
    }
    d.add_reservation(network.id, res(1, name="renamed"))  # a rename reloads
    d.remove_reservation(network.id, res(1).mac)
    assert d.network_status(network.id)["reloads"] == 2
    assert d.sync(network, [res(2), res(3)]) == {"written": 2, "dropped": 0}
    d.remove_network(network.id)
    assert d.networks() == {}


def test_fake_scales(network):
    import ipaddress

    from arame.agents.nsa import records

    big = records.parse_network(
        dict(
            network.to_message(),
            cidr="10.0.0.0/16",
            gateway="10.0.0.1",
            dhcp_address=None,
            dhcp_ranges=[],
        )
    )
    d = FakeDriver()
    many = [
        records.Reservation(
            f"52:54:00:00:{n >> 8:02x}:{n & 255:02x}",
            ipaddress.IPv4Address("10.0.1.0") + n,
            f"h{n}",
        )
        for n in range(10000)
    ]
    assert d.sync(big, many) == {"written": 10000, "dropped": 0}
    assert d.sync(big, many) == {"written": 0, "dropped": 0}
