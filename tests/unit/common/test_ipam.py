"""IPAM: address plans, and allocation that never hands out an address or
a MAC twice, even to concurrent transactions."""

import concurrent.futures
import ipaddress
import re
import threading

import pytest
import sqlalchemy as sa

from arame.common import exceptions, ids, ipam
from arame.common.db import engine, models

# -- plans -------------------------------------------------------------------


def test_plan_defaults_gateway_first_host_and_ranges_around_it(parsed_conf):
    plan = ipam.make_plan("10.1.0.0/24")
    assert (plan.ip_version, plan.cidr, plan.gateway) == (
        4,
        "10.1.0.0/24",
        "10.1.0.1",
    )
    # The last host is dnsmasq's (the gateway is the router's).
    assert plan.dhcp_ranges == [["10.1.0.2", "10.1.0.253"]]
    assert plan.dhcp_address == "10.1.0.254"


def test_plan_with_a_gateway_in_the_middle_splits_the_default_range(
    parsed_conf,
):
    plan = ipam.make_plan("10.1.0.0/28", gateway="10.1.0.8")
    assert plan.dhcp_ranges == [
        ["10.1.0.1", "10.1.0.7"],
        ["10.1.0.9", "10.1.0.13"],
    ]
    assert plan.dhcp_address == "10.1.0.14"


def test_plan_keeps_given_ranges_sorted(parsed_conf):
    plan = ipam.make_plan(
        "192.168.0.0/24",
        dhcp_ranges=[
            ["192.168.0.100", "192.168.0.200"],
            ["192.168.0.10", "192.168.0.20"],
        ],
    )
    assert plan.dhcp_ranges == [
        ["192.168.0.10", "192.168.0.20"],
        ["192.168.0.100", "192.168.0.200"],
    ]
    assert plan.dhcp_address == "192.168.0.254"


@pytest.mark.parametrize(
    "gateway, ranges, dhcp",
    [
        # the highest host outside every range and not the gateway
        (None, [["10.1.0.2", "10.1.0.200"]], "10.1.0.254"),
        (None, [["10.1.0.100", "10.1.0.254"]], "10.1.0.99"),
        ("10.1.0.99", [["10.1.0.100", "10.1.0.254"]], "10.1.0.98"),
        (
            "10.1.0.254",
            [["10.1.0.10", "10.1.0.20"], ["10.1.0.21", "10.1.0.253"]],
            "10.1.0.9",
        ),
        # none free: dnsmasq stays on the gateway
        (None, [["10.1.0.2", "10.1.0.254"]], None),
        ("10.1.0.254", [["10.1.0.1", "10.1.0.253"]], None),
    ],
)
def test_plan_dhcp_address_with_given_ranges(
    parsed_conf, gateway, ranges, dhcp
):
    plan = ipam.make_plan("10.1.0.0/24", gateway, ranges)
    assert plan.dhcp_address == dhcp


def test_plan_dhcp_address_with_the_gateway_last(parsed_conf):
    plan = ipam.make_plan("10.1.0.0/29", gateway="10.1.0.6")
    assert (plan.dhcp_address, plan.dhcp_ranges) == (
        "10.1.0.5",
        [["10.1.0.1", "10.1.0.4"]],
    )


def test_plan_without_dhcp_hands_out_every_host_but_the_gateway(parsed_conf):
    plan = ipam.make_plan("10.1.0.0/24", dhcp=False)
    assert plan.dhcp_address is None
    assert plan.dhcp_ranges == [["10.1.0.2", "10.1.0.254"]]


@pytest.mark.parametrize(
    "kw, field, words",
    [
        ({"cidr": "10.0.0.0"}, "cidr", "prefix length"),
        ({"cidr": "10.0.0.1/24"}, "cidr", "host bits"),
        ({"cidr": "nonsense/24"}, "cidr", "does not appear"),
        ({"cidr": "10.0.0.0/8"}, "cidr", "outside /16../29"),
        ({"cidr": "10.0.0.0/30"}, "cidr", "outside /16../29"),
        ({"cidr": "fd00::/64"}, "cidr", "IPv6 networks are not supported yet"),
        ({"gateway": "10.9.0.1"}, "gateway", "outside"),
        ({"gateway": "10.0.0.255"}, "gateway", "broadcast"),
        ({"gateway": "10.0.0.0"}, "gateway", "network or broadcast"),
        ({"gateway": "x"}, "gateway", "not an IP address"),
        (
            {"dhcp_ranges": [["10.0.0.10", "10.0.1.5"]]},
            "dhcp_ranges",
            "outside",
        ),
        (
            {"dhcp_ranges": [["10.0.0.20", "10.0.0.10"]]},
            "dhcp_ranges",
            "after",
        ),
        (
            {"dhcp_ranges": [["10.0.0.1", "10.0.0.10"]]},
            "dhcp_ranges",
            "gateway",
        ),
        (
            {
                "dhcp_ranges": [
                    ["10.0.0.10", "10.0.0.20"],
                    ["10.0.0.15", "10.0.0.30"],
                ]
            },
            "dhcp_ranges",
            "overlaps",
        ),
    ],
)
def test_bad_plans_are_422_naming_the_field(parsed_conf, kw, field, words):
    kw = {"cidr": "10.0.0.0/24", **kw}
    with pytest.raises(exceptions.Invalid) as e:
        ipam.make_plan(**kw)
    assert e.value.details["field"] == field
    assert words in e.value.message


def test_prefix_bounds_come_from_config(config):
    config("min_prefix_length", 8, group="network")
    assert ipam.make_plan("10.0.0.0/8").cidr == "10.0.0.0/8"


def test_mac_is_locally_administered_in_qemu_prefix():
    macs = {ipam.random_mac() for _ in range(200)}
    assert len(macs) > 190
    assert all(re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", m) for m in macs)
    assert int("52", 16) & 0x02  # the locally administered bit


# -- allocation ----------------------------------------------------------------


def make_network(cidr="10.0.0.0/28", **kw) -> models.Network:
    plan = ipam.make_plan(
        cidr, kw.pop("gateway", None), kw.pop("dhcp_ranges", None)
    )
    now = models.utcnow()
    net = models.Network(
        id=ids.generate("network"),
        name=kw.pop("name", "n1"),
        account_id="a-admin",
        shared=False,
        ip_version=4,
        cidr=plan.cidr,
        gateway=plan.gateway,
        dns_domain="t.internal",
        dhcp_ranges=plan.dhcp_ranges,
        dhcp_address=plan.dhcp_address,
        segmentation="vxlan",
        segment_id=kw.pop("segment_id", 5000),
        mtu=1450,
        created_at=now,
        updated_at=now,
    )
    with engine.session() as s:
        s.add(net)
    return net


def allocate(net, iid, ip=None) -> models.Port:
    with engine.session() as s:
        return ipam.allocate(s, net, iid, "h-" + iid[2:], ip)


@pytest.fixture
def instances(add_instance):
    """instances(n) -> n instance ids (their rows exist: ports point at them)."""

    def make(n):
        return [add_instance(name=f"vm{i}")[0] for i in range(n)]

    return make


def all_ports():
    with engine.session() as s:
        return list(s.scalars(sa.select(models.Port)))


def test_allocate_gives_an_address_in_the_ranges_and_a_mac(instances):
    net = make_network()
    (iid,) = instances(1)
    port = allocate(net, iid)
    a = ipaddress.ip_address(port.ip_address)
    assert a in ipaddress.ip_network(net.cidr) and str(a) != net.gateway
    assert port.mac_address.startswith("52:54:00:")
    assert (port.network_id, port.instance_id, port.hostname) == (
        net.id,
        iid,
        "h-" + iid[2:],
    )


def test_every_address_once_then_a_clear_409(instances):
    # /28: 14 hosts, 12 without the gateway and the DHCP address
    net = make_network()
    iids = instances(13)
    got = [allocate(net, i).ip_address for i in iids[:12]]
    assert len(set(got)) == 12
    assert net.dhcp_address not in got
    with pytest.raises(exceptions.Conflict) as e:
        allocate(net, iids[12])
    assert e.value.message == f"network {net.id} has no free address"
    assert e.value.status == 409


def test_fixed_address_taken_is_409_and_invalid_ones_422(instances):
    net = make_network(dhcp_ranges=[["10.0.0.2", "10.0.0.10"]])
    a, b = instances(2)
    assert allocate(net, a, "10.0.0.5").ip_address == "10.0.0.5"
    with pytest.raises(exceptions.Conflict) as e:
        allocate(net, b, "10.0.0.5")
    assert "10.0.0.5 is already in use" in e.value.message
    for bad, words in (
        ("10.0.0.1", "gateway"),
        ("10.0.1.5", "outside"),
        ("10.0.0.12", "DHCP ranges"),
        ("10.0.0.14", "DHCP server's address"),
        ("10.0.0.15", "DHCP"),
        ("bad", "not an IP"),
    ):
        with pytest.raises(exceptions.Invalid) as e:
            allocate(net, b, bad)
        assert (
            words in e.value.message
            and e.value.details["field"] == "ip_address"
        )
    assert len(all_ports()) == 1


def test_release_frees_the_addresses_and_is_idempotent(instances):
    net = make_network()
    a, b = instances(2)
    port = allocate(net, a, "10.0.0.7")
    with engine.session() as s:
        assert [p.ip_address for p in ipam.ports_for_instance(s, a)] == [
            "10.0.0.7"
        ]
        assert ipam.release_instance(s, a) == 1
    with engine.session() as s:
        assert ipam.release_instance(s, a) == 0
        assert ipam.ports_for_network(s, net.id) == []
    assert allocate(net, b, port.ip_address).ip_address == "10.0.0.7"


def test_concurrent_allocations_never_share_an_address(instances):
    """Threads, each in its own transaction, drain a /28 together: 12 get
    distinct addresses and MACs, the others a 409, none a 5xx."""
    net = make_network()
    iids = instances(20)
    start = threading.Barrier(len(iids))

    def one(iid):
        start.wait()
        try:
            return allocate(net, iid).ip_address
        except exceptions.Conflict as e:
            return e

    with concurrent.futures.ThreadPoolExecutor(len(iids)) as pool:
        results = list(pool.map(one, iids))
    ips = [r for r in results if isinstance(r, str)]
    errors = [r for r in results if not isinstance(r, str)]
    assert len(ips) == 12 and len(set(ips)) == 12
    assert all("has no free address" in e.message for e in errors)
    ports = all_ports()
    assert len({p.mac_address for p in ports}) == len(ports) == 12


def test_lost_races_are_retried_with_another_candidate(instances, monkeypatch):
    """Candidates are drawn at random; when the draw keeps proposing an
    address someone took meanwhile, the insert fails on the unique key
    and the next attempt proposes another."""
    net = make_network()
    a, b = instances(2)
    taken = allocate(net, a).ip_address
    real = ipam._free_candidate
    calls = []

    def stale(session, network):
        calls.append(1)
        return taken if len(calls) < 3 else real(session, network)

    monkeypatch.setattr(ipam, "_free_candidate", stale)
    port = allocate(net, b)
    assert port.ip_address != taken and len(calls) == 3


def test_mac_collision_is_retried(instances, monkeypatch):
    net = make_network()
    a, b = instances(2)
    first = allocate(net, a).mac_address
    macs = iter([first, first, "52:54:00:00:00:01"])
    monkeypatch.setattr(ipam, "random_mac", lambda: next(macs))
    assert allocate(net, b).mac_address == "52:54:00:00:00:01"


def test_allocation_stays_fast_with_thousands_of_ports(instances):
    """A /18 with 3,000 ports: an allocation is a few indexed queries, not
    a read of every port. (Sparse on purpose: in a dense network the
    fallback that reads the used set is the right move.)"""
    net = make_network("10.8.0.0/18")
    (iid,) = instances(1)
    with engine.session() as s:
        s.execute(
            sa.insert(models.Port),
            [
                {
                    "network_id": net.id,
                    "instance_id": iid,
                    "ip_address": str(ipaddress.ip_address("10.8.0.2") + k),
                    "mac_address": f"52:54:00:aa:{k >> 8:02x}:{k & 0xFF:02x}",
                    "hostname": "x",
                    "created_at": models.utcnow(),
                }
                for k in range(3000)
            ],
        )
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    eng = engine.get_engine()
    sa.event.listen(eng, "before_cursor_execute", count)
    try:
        for _ in range(20):
            allocate(net, iid)
    finally:
        sa.event.remove(eng, "before_cursor_execute", count)
    full_reads = [
        st
        for st in statements
        if "ports" in st
        and "IN (" not in st
        and "ip_address =" not in st
        and "mac_address =" not in st
        and st.lstrip().upper().startswith("SELECT")
    ]
    assert full_reads == []


def test_a_dense_network_falls_back_to_a_scan(instances, monkeypatch):
    net = make_network()
    iids = instances(12)
    for iid in iids[:11]:
        allocate(net, iid)
    # One free address left: random draws almost always miss it.
    assert allocate(net, iids[11]).ip_address not in {
        p.ip_address for p in all_ports() if p.instance_id != iids[11]
    }
