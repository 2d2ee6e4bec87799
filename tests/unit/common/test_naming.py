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
    # No router holds its gateway: dnsmasq does, its own address kept
    # for when one will.
    assert served["network"]["dhcp_address"] == net.gateway
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


def test_once_a_router_holds_the_gateway_dnsmasq_moves_to_its_own_address(
    cloud,
):
    net = make_network("10.8.0.0/24", name="routed")
    with engine.session() as s:
        assert naming.network_message(s.get(models.Network, net.id))[
            "dhcp_address"
        ] == ("10.8.0.1")
        s.add(
            models.Router(
                id="rt-00000001",
                account_id="a-admin",
                name="r",
                status="active",
            )
        )
        s.flush()
        s.add(
            models.RouterInterface(
                router_id="rt-00000001", network_id=net.id, address="10.8.0.1"
            )
        )
        s.flush()
        msg = naming.network_message(s.get(models.Network, net.id))
    assert (msg["dhcp_address"], msg["gateway"]) == ("10.8.0.254", "10.8.0.1")


def test_the_message_says_how_nsa_plumbs_the_bridge(cloud):
    from arame.agents.nsa import records

    net = make_network("10.9.0.0/24", name="segmented")
    msg = naming.network_message(net)
    assert msg["bridge"] == net.id
    assert (msg["segmentation"], msg["segment_id"]) == (
        net.segmentation,
        net.segment_id,
    )
    assert records.parse_network(msg).segment["segment_id"] == net.segment_id
