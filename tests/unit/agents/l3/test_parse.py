"""parse_router: every message is checked whole before any command."""

import ipaddress

import pytest

from arame.agents.l3.drivers import base
from arame.common.exceptions import AgentError

from .specs import EXT, message, tenant


def test_full_message():
    spec = base.parse_router(message())
    assert spec.id == "rt-abcd1234"
    assert spec.gateway.network.physical_network == "public"
    assert spec.gateway.address == ipaddress.ip_interface("203.0.113.10/24")
    assert str(spec.gateway.next_hop) == "203.0.113.1"
    assert [i.dev for i in spec.interfaces] == ["riten00000", "riten00001"]
    assert [str(f.address) for f in spec.floating_ips] == [
        "203.0.113.20",
        "203.0.113.21",
    ]
    # frozen and comparable: the same message is the same spec
    assert spec == base.parse_router(message())
    with pytest.raises(AttributeError):
        spec.id = "rt-other000"


def test_order_does_not_matter():
    a = base.parse_router(message())
    msg = message()
    msg["interfaces"].reverse()
    msg["floating_ips"].reverse()
    assert base.parse_router(msg) == a


def test_minimal_router():
    spec = base.parse_router({"id": "rt-abcd1234"})
    assert spec == base.RouterSpec("rt-abcd1234")
    no_gw = base.parse_router(message(gateway=None, floating_ips=[]))
    assert no_gw.gateway is None and len(no_gw.interfaces) == 2


def test_names_fit_linux():
    assert base.tenant_dev("nw-abcdefgh") == "riabcdefgh"
    assert base.host_tenant_dev("nw-abcdefgh") == "qrabcdefgh"
    assert base.host_external_dev("rt-abcdefgh") == "qgabcdefgh"


def test_invalid_router_is_an_agent_error():
    with pytest.raises(base.InvalidRouter) as e:
        base.parse_router({"id": "rt-x"})
    assert isinstance(e.value, AgentError)
    assert e.value.status == 422 and e.value.code == "invalid_router"


def _ext(**kw):
    return {**EXT, **kw}


BAD = {
    "not a dict": [],
    "bad id": {"id": "rt-ABCD1234"},
    "id of another kind": {"id": "nw-abcd1234"},
    "id with a slash": {"id": "rt-abc/1234"},
    "interfaces not a list": message(interfaces={"a": 1}),
    "bad network id": message(
        interfaces=[
            {
                "network": {**tenant(0)["network"], "id": "nw-../../x"},
                "address": "10.0.0.1/24",
            }
        ]
    ),
    "tenant flat": message(
        interfaces=[
            {
                "network": {"id": "nw-ten00000", "segmentation": "flat"},
                "address": "10.0.0.1/24",
            }
        ],
        floating_ips=[],
    ),
    "bad vni": message(
        interfaces=[
            {
                "network": {**tenant(0)["network"], "segment_id": 2**24},
                "address": "10.0.0.1/24",
            }
        ],
        floating_ips=[],
    ),
    "no prefix": message(
        interfaces=[{**tenant(0), "address": "10.0.0.1"}], floating_ips=[]
    ),
    "ipv6": message(
        interfaces=[{**tenant(0), "address": "fd00::1/64"}], floating_ips=[]
    ),
    "network address": message(
        interfaces=[{**tenant(0), "address": "10.0.0.0/24"}], floating_ips=[]
    ),
    "broadcast address": message(
        interfaces=[{**tenant(0), "address": "10.0.0.255/24"}],
        floating_ips=[],
    ),
    "/32 interface": message(
        interfaces=[{**tenant(0), "address": "10.0.0.1/32"}], floating_ips=[]
    ),
    "network twice": message(
        interfaces=[tenant(0), {**tenant(0), "address": "10.9.0.1/24"}],
        floating_ips=[],
    ),
    "overlapping interfaces": message(
        interfaces=[tenant(0), tenant(1, "10.0.0")], floating_ips=[]
    ),
    "interface overlaps external": message(
        interfaces=[tenant(0), tenant(1, "203.0.113")], floating_ips=[]
    ),
    "gateway network attached": message(
        interfaces=[
            {
                "network": {
                    "id": EXT["id"],
                    "segmentation": "vxlan",
                    "segment_id": 5,
                },
                "address": "10.5.0.1/24",
            }
        ],
        floating_ips=[],
    ),
    "flat external without physical network": message(
        gateway={
            "network": _ext(physical_network=None),
            "address": "203.0.113.10/24",
        },
        floating_ips=[],
    ),
    "bad physical network name": message(
        gateway={
            "network": _ext(physical_network="eth1;rm"),
            "address": "203.0.113.10/24",
        },
        floating_ips=[],
    ),
    "next hop outside": message(
        gateway={
            "network": _ext(),
            "address": "203.0.113.10/24",
            "next_hop": "198.51.100.1",
        }
    ),
    "next hop is the router": message(
        gateway={
            "network": _ext(),
            "address": "203.0.113.10/24",
            "next_hop": "203.0.113.10",
        }
    ),
    "floating without gateway": message(gateway=None),
    "floating outside the external subnet": message(
        floating_ips=[{"address": "198.51.100.7", "fixed_address": "10.0.0.5"}]
    ),
    "floating is the gateway address": message(
        floating_ips=[{"address": "203.0.113.10", "fixed_address": "10.0.0.5"}]
    ),
    "fixed in no interface": message(
        floating_ips=[{"address": "203.0.113.20", "fixed_address": "10.7.0.5"}]
    ),
    "fixed is the router": message(
        floating_ips=[{"address": "203.0.113.20", "fixed_address": "10.0.0.1"}]
    ),
    "duplicate floating": message(
        floating_ips=[
            {"address": "203.0.113.20", "fixed_address": "10.0.0.5"},
            {"address": "203.0.113.20", "fixed_address": "10.0.0.6"},
        ]
    ),
    "two floating on one fixed": message(
        floating_ips=[
            {"address": "203.0.113.20", "fixed_address": "10.0.0.5"},
            {"address": "203.0.113.21", "fixed_address": "10.0.0.5"},
        ]
    ),
    "floating not a string": message(
        floating_ips=[{"address": 3405803796, "fixed_address": "10.0.0.5"}]
    ),
}


@pytest.mark.parametrize("msg", BAD.values(), ids=BAD.keys())
def test_refused(msg):
    with pytest.raises(base.InvalidRouter):
        base.parse_router(msg)


def test_error_names_the_router_and_problem():
    with pytest.raises(base.InvalidRouter) as e:
        base.parse_router(BAD["overlapping interfaces"])
    assert "rt-abcd1234" in e.value.message
    assert "overlaps" in e.value.message
