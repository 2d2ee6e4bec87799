"""Assembling the bma daemon, and every operation over the in-process
bus through the client proxy."""

import oslo_messaging as messaging
import pytest

from arame.agents.bma import service
from arame.agents.bma.drivers.fake import FakeHardware
from arame.agents.bma.drivers.ipmitool import IPMIHardware
from arame.agents.bma.errors import BMCAuthFailed, InvalidNode
from arame.agents.bma.rpcapi import BMAAPI
from arame.common.conf import CONF

from .conftest import node_dict
from .test_manager import Notifier

DRIVERS = {"fake": FakeHardware, "ipmitool": IPMIHardware}


@pytest.fixture
def loads(monkeypatch):
    """The drivers by name, as the entry points will give them."""
    loaded = []

    def load(namespace, name):
        loaded.append((namespace, name))
        return DRIVERS[name].from_config(CONF)

    monkeypatch.setattr(service, "_load", load)
    return loaded


def test_defaults_and_driver_by_name(bma_conf, loads):
    assert CONF.bma.driver == "fake"
    assert CONF.bma.default_interface == "lanplus"
    assert type(service.load_driver()) is FakeHardware
    bma_conf("ipmitool_timeout", 4, group="bma")
    bma_conf("cipher_suite", 3, group="bma")
    bma_conf("boot_mode", "efi", group="bma")
    hw = service.load_driver("ipmitool")
    assert (hw.settings.timeout, hw.settings.cipher_suite) == (4, 3)
    assert hw.management.boot_mode == "efi"
    assert loads == [
        ("arame.bma.drivers", "fake"),
        ("arame.bma.drivers", "ipmitool"),
    ]


def test_components_without_and_with_the_power_sync(bma_conf, bus, loads):
    bma_conf("host", "bm1")
    names = [type(c).__name__ for c in service.build_components()]
    assert names == ["RPCServerComponent", "NotifyHeartbeat"]
    comps = service.build_components(fetch_nodes=list)
    assert [type(c).__name__ for c in comps] == [
        "RPCServerComponent",
        "PeriodicComponent",
        "NotifyHeartbeat",
    ]
    assert comps[1].interval() == 60
    assert comps[-1].extra() == {"bare_metal": {"driver": "fake", "nodes": 0}}
    bma_conf("power_sync_interval", 0, group="bma")
    assert len(service.build_components(fetch_nodes=list)) == 2


def test_every_operation_over_the_bus(bma_conf, bus, wait_for, monkeypatch):
    from arame.common.context import admin_context

    bma_conf("host", "bm1")
    bma_conf("power_poll_interval", 0.05, group="bma")
    bma_conf("soft_power_off_timeout", 1, group="bma")
    bma_conf("power_sync_interval", 3600, group="bma")
    notifier = Notifier()
    monkeypatch.setattr(service.rpc, "get_notifier", lambda _: notifier)
    hw = FakeHardware()
    node = node_dict()
    comps = service.build_components(fetch_nodes=lambda: [node], driver=hw)

    def power():
        return [
            p["power_state"] for e, p in notifier.sent if e == "node.power"
        ]

    for c in comps:
        c.start()
    try:
        api, ctxt = BMAAPI(), admin_context()
        wait_for(power, timeout=5)  # the sync's first round
        assert api.validate(ctxt, "bm1", node, timeout=10) == {
            "power_state": "off",
            "boot_devices": ["pxe", "disk"],
        }
        assert api.set_boot_device(
            ctxt, "bm1", node, "pxe", timeout=10, persistent=True
        ) == {"boot_device": "pxe", "persistent": True}
        assert api.power_on(ctxt, "bm1", node, timeout=10)["changed"]
        assert api.get_power_state(ctxt, "bm1", node, timeout=10) == "on"
        assert api.reboot(ctxt, "bm1", node, timeout=10)["power_state"] == "on"
        assert api.soft_power_off(ctxt, "bm1", node, timeout=10) == {
            "power_state": "off",
            "changed": True,
            "forced": False,
        }
        assert api.power_off(ctxt, "bm1", node, timeout=10)["changed"] is False
        assert api.ping(ctxt, "bm1")["binary"] == "arame-bma"
        assert power() == ["off", "on", "off"]
        # Refusals arrive typed, by class name.
        with pytest.raises((messaging.RemoteError, InvalidNode)) as e:
            api.power_on(ctxt, "bm1", node_dict(bmc_port=0), timeout=10)
        assert (
            getattr(e.value, "exc_type", type(e.value).__name__)
            == "InvalidNode"
        )
        hw.credentials[node["id"]] = ("admin", "other")
        with pytest.raises((messaging.RemoteError, BMCAuthFailed)) as e:
            api.power_on(ctxt, "bm1", node, timeout=10)
        assert (
            getattr(e.value, "exc_type", type(e.value).__name__)
            == "BMCAuthFailed"
        )
        assert "wrong password" in str(e.value)
    finally:
        for c in reversed(comps):
            c.stop()
