"""Boot scripts on reservations: checked in, carried along, and a change of
script alone never counts as a drop (which would free the node's lease)."""

import dataclasses

import pytest

from arame.agents.nsa import records
from arame.agents.nsa.table import ReservationTable

from .conftest import res

SCRIPT = "#!ipxe\nsanboot iscsi:10.20.0.2::3260:1:iqn.2025-01.org.x:vol-1\n"


def with_script(n: int, script: str | None = SCRIPT):
    return dataclasses.replace(res(n), boot_script=script)


def test_parse_reservation_keeps_a_script(network):
    r = records.parse_reservation(
        network, "52:54:00:00:00:01", "10.20.0.11", "node1", SCRIPT
    )
    assert r.boot_script == SCRIPT
    assert r.to_message() == {
        "mac": "52:54:00:00:00:01",
        "ip": "10.20.0.11",
        "hostname": "node1",
        "boot_script": SCRIPT,
    }
    plain = records.parse_reservation(
        network, "52:54:00:00:00:02", "10.20.0.12", "vm"
    )
    assert "boot_script" not in plain.to_message()
    assert SCRIPT not in repr(r)  # it may hold CHAP credentials


@pytest.mark.parametrize(
    "script",
    [
        "sanboot iscsi:x\n",  # not an iPXE script
        "#!ipxe\n" + "echo x\n" * 2000,  # over 8 KiB
        "#!ipxe\necho \x00\n",  # binary
        "#!ipxe\necho caf\u00e9\n",  # not ASCII
        "",
        42,
    ],
)
def test_bad_scripts_are_refused_without_echo(network, script):
    with pytest.raises(records.InvalidRecord) as e:
        records.parse_reservation(
            network, "52:54:00:00:00:01", "10.20.0.11", "node1", script
        )
    assert "echo" not in str(e.value)


def test_parse_reservations_reads_scripts(network):
    out = records.parse_reservations(
        network,
        [
            {
                "mac": "52:54:00:00:00:01",
                "ip": "10.20.0.11",
                "hostname": "a",
                "boot_script": SCRIPT,
            },
            {"mac": "52:54:00:00:00:02", "ip": "10.20.0.12", "hostname": "b"},
        ],
    )
    assert [r.boot_script for r in out] == [SCRIPT, None]


def test_script_change_is_a_write_not_a_drop():
    t = ReservationTable()
    assert t.add(with_script(1)).written == [with_script(1)]
    assert not t.add(with_script(1))  # idempotent
    other = with_script(1, SCRIPT + "echo again\n")
    change = t.add(other)
    assert change.written == [other] and change.dropped == []
    assert t.get(res(1).mac).boot_script.endswith("again\n")
    change = t.add(res(1))  # script taken away
    assert change.written == [res(1)] and change.dropped == []


def test_replace_all_with_new_scripts_drops_nothing():
    t = ReservationTable([with_script(1), res(2)])
    change = t.replace_all([res(1), with_script(2)])
    assert sorted(r.mac for r in change.written) == [res(1).mac, res(2).mac]
    assert change.dropped == []
    assert t.get(res(2).mac).boot_script == SCRIPT
    # A real change of address still drops (and so releases) the old one.
    moved = dataclasses.replace(with_script(1), ip=records.ipv4("10.20.0.99"))
    change = t.replace_all([moved, with_script(2)])
    assert change.dropped == [res(1)]


def test_fake_driver_keeps_scripts(network):
    from arame.agents.nsa.drivers.fake import FakeDriver

    d = FakeDriver()
    d.ensure_network(network)
    d.add_reservation(network.id, with_script(1))
    d.add_reservation(network.id, with_script(1, SCRIPT + "echo v2\n"))
    (r,) = d.reservations(network.id)
    assert r.boot_script.endswith("v2\n")
    assert d.reloads[network.id] == 0 and d.released == []
