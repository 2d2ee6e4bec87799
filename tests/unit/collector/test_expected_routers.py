"""The collector's answer to an L3 host's "which routers should I hold?"
(its resync): every router placed there and not being deleted, each as
the flows send it; the agent takes it as is."""

import pytest

from arame.agents.l3.drivers.base import parse_router
from arame.agents.l3.drivers.fake import FakeRouterDriver
from arame.agents.l3.manager import L3Manager
from arame.agents.l3.resync import Resync
from arame.collector import manager
from arame.collector.rpcapi import CollectorAPI
from arame.common.db import engine, models

HOST = "net1"


def network(s, nid, cidr, gateway, **kw):
    s.add(
        models.Network(
            id=nid,
            name=nid,
            account_id="a-admin",
            cidr=cidr,
            gateway=gateway,
            dns_domain="t.test",
            dhcp_ranges=[],
            mtu=kw.pop("mtu", 1450),
            **kw,
        )
    )


def router(s, rid, host=HOST, status="active", gateway=True):
    s.add(
        models.Router(
            id=rid,
            account_id="a-admin",
            name=rid,
            host=host,
            status=status,
            gateway_network_id="nw-extern01" if gateway else None,
            gateway_address="203.0.113.10" if gateway else None,
        )
    )


@pytest.fixture
def records(cloud):
    with engine.session() as s:
        network(
            s,
            "nw-extern01",
            "203.0.113.0/24",
            "203.0.113.1",
            segmentation="flat",
            mtu=1500,
            external=True,
            physical_network="public",
        )
        network(
            s,
            "nw-tenant01",
            "10.0.0.0/24",
            "10.0.0.1",
            segmentation="vxlan",
            segment_id=1001,
        )
        s.flush()
        router(s, "rt-here0001")
        router(s, "rt-gone0001", status="deleting")
        router(s, "rt-else0001", host="net2")
        router(s, "rt-none0001", host=None, gateway=False)
        s.flush()
        s.add(
            models.RouterInterface(
                router_id="rt-here0001",
                network_id="nw-tenant01",
                address="10.0.0.1",
            )
        )
        s.add(
            models.FloatingIp(
                id="rt-here0001",
                network_id="nw-extern01",
                address="203.0.113.10",
                account_id="a-admin",
                kind="gateway",
                router_id="rt-here0001",
            )
        )


def test_routers_of_the_host_not_deleting_as_messages(records):
    got = manager.CollectorManager().expected_routers({}, HOST)
    assert list(got["routers"]) == ["rt-here0001"]
    msg = got["routers"]["rt-here0001"]
    assert msg["gateway"]["address"] == "203.0.113.10/24"
    assert msg["gateway"]["network"]["physical_network"] == "public"
    assert [i["address"] for i in msg["interfaces"]] == ["10.0.0.1/24"]
    # What the agent accepts as it is.
    assert parse_router(msg).id == "rt-here0001"
    assert manager.CollectorManager().expected_routers({}, "net9") == {
        "routers": {}
    }


def test_over_rpc_into_the_agents_resync(records, bus, parsed_conf):
    from arame.common import rpc
    from arame.common.conf import CONF

    server = rpc.get_server(
        manager.TOPIC, CONF.host, [manager.CollectorManager()]
    )
    server.start()
    try:
        l3 = L3Manager(FakeRouterDriver())
        l3.apply_router({}, {"id": "rt-stale001"})

        def fetch():
            answer = CollectorAPI().expected_routers({}, HOST, timeout=10)
            return answer["routers"]

        out = Resync(l3, fetch).run_once()
    finally:
        server.stop()
        server.wait()
    assert out == {
        "applied": ["rt-here0001"],
        "removed": ["rt-stale001"],
        "failed": {},
        "newer": [],
    }
    assert l3.driver.routers() == {"rt-here0001"}
