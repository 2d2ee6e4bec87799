"""bma's power sync fed by the collector over the bus: the agent asks for
its nodes (credentials included) at every round, and what it sees comes
back as `node.power` and lands on the node."""

from arame.agents.bma import service
from arame.agents.bma.drivers.fake import FakeHardware, FakeNode
from arame.agents.bma.power_sync import PowerSync
from arame.collector.manager import CollectorManager, NotificationEndpoint
from arame.common import rpc
from arame.common.db import engine, models

from .test_nodes import add_node


class Relay:
    """The notifier, delivering straight to the collector's endpoint."""

    def info(self, ctxt, event_type, payload):
        NotificationEndpoint().info(
            ctxt, "arame-bma.bm1", event_type, payload, {}
        )


def test_daemon_components_wire_the_collector(db, bus, config, monkeypatch):
    config("host", "bm1")
    config("power_sync_interval", 3600, group="bma")
    monkeypatch.setattr(service.rpc, "get_notifier", lambda _: Relay())
    nid = add_node("n1", state="available")
    add_node("n2", state="manageable", bma_host="elsewhere")
    server = rpc.get_server("collector", "c1", [CollectorManager()])
    server.start()
    try:
        names = [
            type(c).__name__
            for c in service.daemon_components(driver=FakeHardware())
        ]
        assert names == [
            "RPCServerComponent",
            "PeriodicComponent",
            "NotifyHeartbeat",
        ]
        fetch = service.collector_nodes("bm1", timeout=10)
        assert [n["id"] for n in fetch()] == [nid]
        hw = FakeHardware()
        # Someone pressed the button.
        hw.nodes[nid] = FakeNode(power_state="on")
        mgr = service.build_manager(hw)
        out = PowerSync(mgr, fetch).run_once()
        assert out["on"] == [nid]
        with engine.session() as s:
            node = s.get(models.BaremetalNode, nid)
            assert node.power_state == "on"
            assert (
                node.status_reason
                == "powered on outside Arame while available"
            )
    finally:
        server.stop()
        server.wait()
