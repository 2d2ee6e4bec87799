"""What naming nodes are told to serve: the build's reservations and the
collector's resync answer."""

import datetime as dt

import sqlalchemy as sa

from arame.common import ipam, naming
from arame.common.db import engine, models, services
from tests.unit.common.test_ipam import make_network


def test_resync_answer_holds_every_live_reservation_and_no_dead_network(
    add_instance,
):
    net = make_network("10.5.0.0/24")
    empty = make_network("10.6.0.0/24", name="n2", segment_id=5001)
    live, _ = add_instance(name="web")
    dead, _ = add_instance(name="gone", status="terminated")
    with engine.session() as s:
        n = s.get(models.Network, net.id)
        p_live = ipam.allocate(s, n, live, "web")
        ipam.allocate(s, n, dead, "gone")
    with engine.session() as s:
        answer = naming.expected(s, [net.id, empty.id])
    assert list(answer["networks"]) == [net.id]  # empty one: no longer served
    served = answer["networks"][net.id]
    assert served["network"]["bridge"] == net.id
    # dnsmasq has an address of its own (the gateway is the router's)
    assert served["network"]["dhcp_address"] == net.dhcp_address
    assert net.dhcp_address == "10.5.0.254"
    assert served["reservations"] == [
        {"mac": p_live.mac_address, "ip": p_live.ip_address, "hostname": "web"}
    ]


def test_only_naming_agents_that_reported_lately_are_nodes(db):
    now = models.utcnow()
    with engine.session() as s:
        for host, age in (("nn1", 1), ("nn2", 3600)):
            s.add(
                models.Service(
                    host=host,
                    binary="arame-nsa",
                    topic="nsa",
                    version="x",
                    created_at=now,
                    updated_at=now,
                    last_heartbeat_at=now - dt.timedelta(seconds=age),
                )
            )
        s.add(
            models.Service(
                host="st1",
                binary="arame-sta",
                topic="sta",
                version="x",
                created_at=now,
                updated_at=now,
                last_heartbeat_at=now,
            )
        )
    with engine.session() as s:
        assert naming.nodes(s) == ["nn1"]
        assert services.live_hosts(s, "arame-sta") == ["st1"]
        assert s.scalar(sa.select(sa.func.count(models.Service.id))) == 3


def test_a_network_without_a_dhcp_address_keeps_dnsmasq_on_the_gateway(
    cloud,
):
    net = make_network("10.7.0.0/24", name="legacy")
    net.dhcp_address = None  # made before routers
    assert naming.network_message(net)["dhcp_address"] == "10.7.0.1"
