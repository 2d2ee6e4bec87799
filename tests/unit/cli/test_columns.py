"""How the CLI shows what a table cell holds."""

from arame.cli.columns import AddressesColumn


def test_an_address_shows_its_floating_ip_where_it_has_one():
    col = AddressesColumn(
        [
            {"ip_address": "10.0.0.5", "floating_ip": "203.0.113.20"},
            {"ip_address": "10.1.0.7", "floating_ip": None},
        ]
    )
    assert col.human_readable() == (
        "10.0.0.5 (floating 203.0.113.20), 10.1.0.7"
    )
