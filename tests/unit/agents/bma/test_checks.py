"""What a node must look like before anything reaches ipmitool."""

import pytest

from arame.agents.bma import checks
from arame.agents.bma.errors import InvalidNode

from .conftest import PASSWORD, node_dict


def test_a_good_node_becomes_a_bmc_without_its_password_in_repr():
    bmc = checks.node(node_dict(bmc_address="2001:DB8::1"))
    assert (
        bmc.node_id,
        bmc.address,
        bmc.port,
        bmc.username,
        bmc.interface,
    ) == ("bm-aaaa0001", "2001:db8::1", 623, "admin", "lanplus")
    assert bmc.password == PASSWORD
    assert PASSWORD not in repr(bmc) and PASSWORD not in str(bmc)


def test_host_names_and_the_interface():
    bmc = checks.node(
        node_dict(bmc_address="BMC-7.rack1.example", interface="lan")
    )
    assert (bmc.address, bmc.interface) == ("bmc-7.rack1.example", "lan")
    assert checks.node(node_dict(), default_interface="lan").interface == "lan"


@pytest.mark.parametrize(
    "field,value",
    [
        ("id", "i-aaaa0001"),
        ("id", "bm-AAAA0001"),
        ("id", "bm-aaaa00011"),
        ("id", None),
        ("bmc_address", "-oProxyCommand=x"),
        ("bmc_address", "a b"),
        ("bmc_address", "host;reboot"),
        ("bmc_address", ""),
        ("bmc_address", "x" * 64),
        ("bmc_address", 10),
        ("bmc_port", 0),
        ("bmc_port", 65536),
        ("bmc_port", "623"),
        ("bmc_port", True),
        ("bmc_port", None),
        ("bmc_username", ""),
        ("bmc_username", "-U"),
        ("bmc_username", "a b"),
        ("bmc_username", "x" * 17),
        ("bmc_username", "root$(id)"),
        ("bmc_password", ""),
        ("bmc_password", "x" * 21),
        ("bmc_password", "two\nlines"),
        ("bmc_password", None),
        ("interface", "open"),
        ("interface", "serial"),
    ],
)
def test_malformed_fields_are_refused(field, value):
    with pytest.raises(InvalidNode):
        checks.node(node_dict(**{field: value}))


def test_lan_passwords_are_shorter_and_the_refusal_never_shows_them():
    secret = "x" * 17
    checks.node(node_dict(bmc_password=secret))  # lanplus: 20
    with pytest.raises(InvalidNode) as e:
        checks.node(node_dict(bmc_password=secret, interface="lan"))
    assert secret not in str(e.value)
    assert "1-16" in str(e.value)


def test_node_must_be_an_object_and_boot_devices_are_two():
    with pytest.raises(InvalidNode):
        checks.node(["bm-aaaa0001"])
    assert checks.boot_device("pxe") == "pxe"
    for bad in ("network", "cdrom", None):
        with pytest.raises(InvalidNode):
            checks.boot_device(bad)
    with pytest.raises(InvalidNode):
        checks.persistent("yes")
