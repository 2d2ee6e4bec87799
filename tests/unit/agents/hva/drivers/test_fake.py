"""The fake driver keeps the real driver's contract."""

import pytest

from arame.agents.hva.drivers.base import POWER_STATES, InstanceNotFound
from arame.agents.hva.drivers.fake import FakeDriver


def guest(iid="i-abcd1234"):
    return {"id": iid, "name": "web", "hostname": "web"}


def test_inventory_comes_from_config(config):
    config("vcpus", 4, group="fake_hva")
    config("memory_mb", 8192, group="fake_hva")
    config("disk_gb", 100, group="fake_hva")
    assert FakeDriver("hv1").get_inventory() == {
        "vcpus": 4,
        "memory_mb": 8192,
        "disk_gb": 100,
        "hypervisor_type": "fake",
        "storage_address": None,
    }
    # With an initiator address, volumes attach to these hosts.
    config("iscsi_initiator_address", "127.0.0.1", group="fake_hva")
    assert FakeDriver("hv1").get_inventory()["storage_address"] == (
        "127.0.0.1"
    )


def test_power_states_are_the_documented_ones(parsed_conf):
    d = FakeDriver("hv1")
    seen = {
        d.spawn(guest()),
        d.power_off("i-abcd1234"),
        d.power_on("i-abcd1234"),
        d.reboot("i-abcd1234"),
    }
    d.crash("i-abcd1234")
    seen |= set(d.list_instances().values())
    assert seen <= set(POWER_STATES)


def test_guests_of_one_driver_are_not_seen_by_another(parsed_conf):
    a, b = FakeDriver("hv1"), FakeDriver("hv2")
    a.spawn(guest())
    assert b.list_instances() == {}
    with pytest.raises(InstanceNotFound):
        b.power_on("i-abcd1234")


def test_crash_without_a_listener_is_harmless(parsed_conf):
    d = FakeDriver("hv1")
    d.spawn(guest())
    d.crash("i-abcd1234")
    assert d.list_instances() == {"i-abcd1234": "crashed"}


def test_console_names_the_guest_and_host(parsed_conf):
    d = FakeDriver("hv7")
    d.spawn(guest())
    assert "web booted on hv7" in d.get_console_output("i-abcd1234")
