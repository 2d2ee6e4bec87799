import threading

from arame.agents.nsa import service
from arame.agents.nsa.drivers.fake import FakeDriver
from arame.agents.nsa.manager import NSAManager

from .conftest import NET_ID, NETWORK_MSG


def test_driver_is_loaded_by_name(nsa_conf_registered, config):
    config("driver", "fake", group="nsa")
    assert type(service.load_driver()).__name__ == "FakeDriver"
    assert type(service.load_driver("dnsmasq")).__name__ == "DnsmasqDriver"


def test_service_resyncs_at_start_and_stops_the_driver(
    nsa_conf_registered, config, wait_for
):
    config("resync_interval", 0, group="nsa")
    drv = FakeDriver()
    stopped = threading.Event()
    drv.stop = stopped.set
    svc = service.NamingService(
        NSAManager(drv), lambda ids: {NET_ID: (NETWORK_MSG, [])}
    )
    svc.start()
    wait_for(lambda: NET_ID in drv.networks(), timeout=5)
    svc.stop()
    assert stopped.is_set()


def test_every_operation_over_the_bus(bus, nsa_conf_registered, config):
    """The client proxy and the daemon's components on the in-process bus:
    the names and arguments of both sides match, the version cap allows
    them, and the collector is asked what to hold."""
    import oslo_messaging as messaging
    import pytest

    from arame.agents.nsa.records import InvalidRecord
    from arame.agents.nsa.rpcapi import NSAAPI
    from arame.common.context import admin_context

    config("host", "node1")
    config("driver", "fake", group="nsa")
    config("resync_interval", 0, group="nsa")
    asked = threading.Event()

    def fetch(ids):
        asked.set()
        return {}

    svc, heartbeat = service.build_components(fetch_expected=fetch)
    svc.start()
    try:
        api, ctxt = NSAAPI(), admin_context()
        st = api.ensure_network(ctxt, "node1", NETWORK_MSG, timeout=10)
        assert st["reservations"] == 0
        assert (
            api.add_reservation(
                ctxt,
                "node1",
                NET_ID,
                "52:54:00:00:00:01",
                "10.20.0.5",
                "web",
                timeout=10,
            )["ip"]
            == "10.20.0.5"
        )
        assert api.sync(
            ctxt,
            "node1",
            NETWORK_MSG,
            [{"mac": "52:54:00:00:00:02", "ip": "10.20.0.6", "hostname": "b"}],
            timeout=10,
        ) == {"written": 1, "dropped": 1}
        assert (
            api.remove_reservation(
                ctxt, "node1", NET_ID, "52:54:00:00:00:02", timeout=10
            )
            == {}
        )
        assert (
            api.status(ctxt, "node1", timeout=10)["networks"][NET_ID][
                "reservations"
            ]
            == 0
        )
        with pytest.raises((messaging.RemoteError, InvalidRecord)):
            api.add_reservation(
                ctxt,
                "node1",
                NET_ID,
                "52:54:00:00:00:03",
                "10.99.0.5",
                "web",
                timeout=10,
            )
        assert api.remove_network(ctxt, "node1", NET_ID, timeout=10) == {}
        assert api.ping(ctxt, "node1")["binary"] == "arame-nsa"
        assert asked.wait(5)
        assert heartbeat.extra() == {"networks": [], "reservations": 0}
    finally:
        svc.stop()


def test_a_port_is_named_in_one_call_or_two_to_an_older_nsa(
    bus, nsa_conf_registered, config, monkeypatch
):
    """A build names each port on each naming node: from 1.3 the network
    travels with the reservation (one call, served first); an nsa capped
    at 1.2 gets ensure_network then add_reservation. Either way the node
    serves the network and holds the reservation; a network that is not
    the reservation's, or a reservation the network cannot hold, is
    refused with nothing written."""
    import oslo_messaging as messaging
    import pytest

    from arame.agents.nsa.records import InvalidRecord
    from arame.agents.nsa.rpcapi import NSAAPI
    from arame.common.context import admin_context
    from arame.common.rpc import version_cap

    config("host", "node1")
    config("driver", "fake", group="nsa")
    config("resync_interval", 0, group="nsa")
    asked = []
    ensure = NSAManager.ensure_network

    def counted(self, ctxt, network):
        asked.append("ensure_network")
        return ensure(self, ctxt, network)

    monkeypatch.setattr(NSAManager, "ensure_network", counted)
    svc, _ = service.build_components(fetch_expected=lambda ids: {})
    svc.start()
    try:
        ctxt = admin_context()
        mac1, mac2 = "52:54:00:00:00:01", "52:54:00:00:00:02"
        res = NSAAPI().name_port(
            ctxt, "node1", NETWORK_MSG, mac1, "10.20.0.5", "web", timeout=10
        )
        assert res["ip"] == "10.20.0.5"
        assert asked == []  # one call: the network came with it
        drv = svc.manager.driver
        assert drv.network_status(NET_ID)["reservations"] == 1

        other = {**NETWORK_MSG, "id": "nw-other000"}
        with pytest.raises((messaging.RemoteError, InvalidRecord)):
            NSAAPI()._call(
                ctxt,
                "node1",
                "add_reservation",
                10,
                version="1.3",
                network_id=NET_ID,
                mac=mac2,
                ip="10.20.0.6",
                hostname="db",
                network=other,
            )
        assert "nw-other000" not in drv.networks()
        # A reservation that cannot be (its address outside the network)
        # does not even serve its network.
        with pytest.raises((messaging.RemoteError, InvalidRecord)):
            NSAAPI().name_port(
                ctxt, "node1", other, mac2, "10.99.0.6", "db", timeout=10
            )
        assert "nw-other000" not in drv.networks()
        assert drv.network_status(NET_ID)["reservations"] == 1

        config("nsa", "1.2", group="upgrade_levels")
        version_cap.reset()
        res = NSAAPI().name_port(
            ctxt, "node1", NETWORK_MSG, mac2, "10.20.0.6", "db", timeout=10
        )
        assert res["ip"] == "10.20.0.6"
        assert asked == ["ensure_network"]
        assert drv.network_status(NET_ID)["reservations"] == 2
    finally:
        svc.stop()
        version_cap.reset()
