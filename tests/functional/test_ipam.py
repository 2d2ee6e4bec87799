"""IPAM on real MariaDB: concurrent transactions (as several API processes
would run them) never share an address or a MAC, a full network is a clean
409, and a contended fixed address goes to exactly one of them."""

import concurrent.futures
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from arame.common import exceptions, ids, ipam
from arame.common.db import engine as db_engine
from arame.common.db import models
from tests.helpers.mariadb import fresh_database

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def maker():
    """A fresh database at the newest schema, with an account to own rows."""
    with fresh_database("ft_ipam_") as url:
        eng = db_engine.create_engine(url)
        try:
            make = orm.sessionmaker(eng, expire_on_commit=False)
            with make.begin() as s:
                s.add(models.Account(id="a-admin", name="admin"))
            yield make
        finally:
            eng.dispose()


def add_network(make, cidr: str, segment_id: int) -> models.Network:
    plan = ipam.make_plan(cidr)
    net = models.Network(
        id=ids.generate("network"),
        name=f"n{segment_id}",
        account_id="a-admin",
        ip_version=4,
        cidr=plan.cidr,
        gateway=plan.gateway,
        dns_domain="t.lab",
        dhcp_ranges=plan.dhcp_ranges,
        dhcp_address=plan.dhcp_address,
        segmentation="vxlan",
        segment_id=segment_id,
        mtu=1450,
    )
    with make.begin() as s:
        s.add(net)
    return net


def instance(iid: str) -> models.Instance:
    return models.Instance(
        id=iid,
        name=iid,
        hostname=iid,
        account_id="a-admin",
        flavor="small",
        image_id="img-00000000",
        vcpus=1,
        memory_mb=512,
        disk_gb=5,
    )


def add_instances(make, n: int) -> list[str]:
    iids = [ids.generate("instance") for _ in range(n)]
    with make.begin() as s:
        for iid in iids:
            s.add(instance(iid))
    return iids


def race(make, net, iids, fixed=None):
    """Every instance allocates in its own transaction, all at once."""
    start = threading.Barrier(len(iids))

    def one(iid):
        start.wait()
        try:
            with make.begin() as s:
                return ipam.allocate(s, net, iid, "h", fixed).ip_address
        except exceptions.Conflict as e:
            return e

    with concurrent.futures.ThreadPoolExecutor(len(iids)) as pool:
        return list(pool.map(one, iids))


def ports(make, network_id):
    with make() as s:
        return ipam.ports_for_network(s, network_id)


def test_parallel_allocations_drain_a_small_network_without_duplicates(maker):
    # 12 addresses: 14 hosts but the gateway and the DHCP server's
    net = add_network(maker, "10.60.0.0/28", 9001)
    results = race(maker, net, add_instances(maker, 24))
    ips = [r for r in results if isinstance(r, str)]
    errors = [r for r in results if not isinstance(r, str)]
    assert len(ips) == len(set(ips)) == 12
    assert all(
        e.message == f"network {net.id} has no free address" for e in errors
    ), [e.message for e in errors]
    got = ports(maker, net.id)
    assert sorted(p.ip_address for p in got) == sorted(ips)
    assert len({p.mac_address for p in got}) == 12


def test_parallel_allocations_on_a_big_network_all_succeed(maker):
    net = add_network(maker, "10.61.0.0/24", 9002)
    results = race(maker, net, add_instances(maker, 40))
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 40


def test_a_contended_fixed_address_goes_to_exactly_one(maker):
    net = add_network(maker, "10.62.0.0/24", 9003)
    results = race(maker, net, add_instances(maker, 12), fixed="10.62.0.77")
    assert results.count("10.62.0.77") == 1
    losers = [r for r in results if not isinstance(r, str)]
    assert len(losers) == 11
    assert all("10.62.0.77 is already in use" in e.message for e in losers)


def test_release_then_reuse(maker):
    net = add_network(maker, "10.63.0.0/29", 9004)  # 4 addresses
    iids = add_instances(maker, 5)
    assert all(isinstance(r, str) for r in race(maker, net, iids[:4]))
    with maker.begin() as s:
        freed = ipam.ports_for_instance(s, iids[0])[0].ip_address
        assert ipam.release_instance(s, iids[0]) == 1
    with maker.begin() as s:
        assert ipam.allocate(s, net, iids[4], "h").ip_address == freed
    with maker() as s:
        assert (
            s.scalar(
                sa.select(sa.func.count())
                .select_from(models.Port)
                .where(models.Port.network_id == net.id)
            )
            == 4
        )


def test_a_refused_insert_is_retried_inside_the_callers_transaction(
    maker, monkeypatch
):
    """A MAC already in use is refused by its unique key; the allocation
    tries another in the same transaction, and what the transaction wrote
    before the refusal (here an instance) commits with the port."""
    net = add_network(maker, "10.64.0.0/24", 9005)
    (first,) = add_instances(maker, 1)
    with maker.begin() as s:
        used = ipam.allocate(s, net, first, "h").mac_address
    macs = iter([used, used, "52:54:00:64:00:01"])
    monkeypatch.setattr(ipam, "random_mac", lambda: next(macs))
    iid = ids.generate("instance")
    with maker.begin() as s:
        s.add(instance(iid))
        s.flush()
        port = ipam.allocate(s, net, iid, "h2")
    assert port.mac_address == "52:54:00:64:00:01" and port.id is not None
    with maker() as s:
        (row,) = ipam.ports_for_instance(s, iid)
        assert (row.id, row.mac_address) == (port.id, port.mac_address)
        assert s.get(models.Instance, iid) is not None
