"""Capacity claims: compare-and-set rows that never over-allocate."""

import concurrent.futures
import threading

import pytest

from arame.common import exceptions
from arame.common.db import models
from arame.scheduler import claims


@pytest.fixture
def ratios(config):
    for r in ("cpu", "ram", "disk"):
        config(f"{r}_allocation_ratio", 1.0, group="scheduler")


def usage(name="hv1"):
    """(vcpus, memory, disk, instances) the host has handed out."""
    import sqlalchemy as sa

    from arame.common.db import engine

    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == name))
        return (
            h.vcpus_used,
            h.memory_mb_used,
            h.disk_gb_used,
            h.instance_count,
        )


def claim_for(iid, host="hv1", vcpus=1, memory_mb=512, disk_gb=5):
    claims.claim(iid, host, vcpus, memory_mb, disk_gb)


def test_claim_takes_capacity_and_places_the_instance(
    ratios, add_host, add_instance, get_row
):
    add_host("hv1", vcpus=4, memory_mb=4096, disk_gb=100)
    iid, _ = add_instance()
    claim_for(iid)
    assert usage() == (1, 512, 5, 1)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host, inst.claimed) == (
        "scheduling",
        "hv1",
        True,
    )


def test_a_claim_may_carry_the_instance_on_to_a_state_after_scheduling(
    ratios, add_host, add_instance, get_row
):
    add_host("hv1", vcpus=4, memory_mb=4096, disk_gb=100)
    iid, _ = add_instance()
    # Only a move the state table allows after `scheduling`.
    with pytest.raises(exceptions.InvalidTransition):
        claims.claim(iid, "hv1", 1, 512, 5, status="running")
    assert usage() == (0, 0, 0, 0)
    claims.claim(iid, "hv1", 1, 512, 5, status="starting")
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host, inst.claimed) == ("starting", "hv1", True)
    assert usage() == (1, 512, 5, 1)


def test_claim_adds_to_existing_usage(ratios, add_host, add_instance, get_row):
    add_host(
        "hv1",
        vcpus=4,
        memory_mb=4096,
        disk_gb=100,
        vcpus_used=2,
        memory_mb_used=1024,
        disk_gb_used=10,
        instance_count=2,
    )
    iid, _ = add_instance()
    claim_for(iid, vcpus=2, memory_mb=2048, disk_gb=20)
    assert usage() == (4, 3072, 30, 3)


@pytest.mark.parametrize(
    "need", [dict(vcpus=5), dict(memory_mb=4097), dict(disk_gb=101)]
)
def test_claim_beyond_capacity_is_lost_and_changes_nothing(
    ratios, add_host, add_instance, get_row, need
):
    add_host("hv1", vcpus=4, memory_mb=4096, disk_gb=100)
    iid, _ = add_instance()
    with pytest.raises(claims.ClaimLost):
        claim_for(iid, **need)
    assert usage() == (0, 0, 0, 0)
    inst = get_row(models.Instance, iid)
    assert (inst.status, inst.host, inst.claimed) == ("pending", None, False)


def test_claim_honours_the_allocation_ratio(
    config, add_host, add_instance, get_row
):
    config("cpu_allocation_ratio", 2.0, group="scheduler")
    config("ram_allocation_ratio", 1.0, group="scheduler")
    config("disk_allocation_ratio", 1.0, group="scheduler")
    add_host("hv1", vcpus=2, memory_mb=4096, disk_gb=100)
    a, _ = add_instance(name="a")
    b, _ = add_instance(name="b")
    claim_for(a, vcpus=3)
    with pytest.raises(claims.ClaimLost):
        claim_for(b, vcpus=2)  # 3 + 2 > 2 * 2
    claim_for(b, vcpus=1)  # 3 + 1 == 4
    assert usage()[0] == 4


def test_claim_on_unknown_host_is_lost(ratios, add_host, add_instance):
    iid, _ = add_instance()
    with pytest.raises(claims.ClaimLost):
        claim_for(iid, host="nowhere")


@pytest.mark.parametrize(
    "status", ["shuttingdown", "scheduling", "error", "terminated"]
)
def test_claim_of_an_instance_no_longer_pending_rolls_back_the_host(
    ratios, add_host, add_instance, get_row, status
):
    add_host("hv1", vcpus=4, memory_mb=4096, disk_gb=100)
    iid, _ = add_instance(status=status)
    with pytest.raises(claims.InstanceGone):
        claim_for(iid)
    assert usage() == (0, 0, 0, 0)
    inst = get_row(models.Instance, iid)
    assert inst.status == status and inst.claimed is False


def test_claim_of_a_deleted_instance_rolls_back(ratios, add_host, get_row):
    add_host("hv1")
    with pytest.raises(claims.InstanceGone):
        claim_for("i-zzzzzzzz")
    assert usage() == (0, 0, 0, 0)


def test_an_instance_is_claimed_only_once(
    ratios, add_host, add_instance, get_row
):
    add_host("hv1", vcpus=4, memory_mb=4096, disk_gb=100)
    add_host("hv2", vcpus=4, memory_mb=4096, disk_gb=100)
    iid, _ = add_instance()
    claim_for(iid, host="hv1")
    with pytest.raises(claims.InstanceGone):
        claim_for(iid, host="hv2")
    assert usage("hv2") == (0, 0, 0, 0)
    assert get_row(models.Instance, iid).host == "hv1"


def test_release_gives_capacity_back_exactly_once(
    ratios, add_host, add_instance, get_row
):
    add_host(
        "hv1",
        vcpus=4,
        memory_mb=4096,
        disk_gb=100,
        vcpus_used=1,
        memory_mb_used=512,
        disk_gb_used=5,
        instance_count=1,
    )
    iid, _ = add_instance()
    claim_for(iid, vcpus=2, memory_mb=1024, disk_gb=10)
    assert usage() == (3, 1536, 15, 2)
    # The instance row's own flavor numbers are what is given back.
    import sqlalchemy as sa

    from arame.common.db import engine

    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == iid)
            .values(vcpus=2, memory_mb=1024, disk_gb=10)
        )
    assert claims.release(iid) is True
    assert claims.release(iid) is False
    assert usage() == (1, 512, 5, 1)
    assert get_row(models.Instance, iid).claimed is False


def test_release_of_an_unclaimed_or_unknown_instance_does_nothing(
    ratios, add_host, add_instance, get_row
):
    add_host(
        "hv1",
        vcpus_used=1,
        memory_mb_used=512,
        disk_gb_used=5,
        instance_count=1,
    )
    iid, _ = add_instance()
    assert claims.release(iid) is False
    assert claims.release("i-zzzzzzzz") is False
    assert usage() == (1, 512, 5, 1)


def test_concurrent_releases_give_back_once(
    ratios, add_host, add_instance, get_row
):
    add_host("hv1", vcpus=4, memory_mb=4096, disk_gb=100)
    iid, _ = add_instance()
    claim_for(iid)
    start = threading.Barrier(8)

    def release():
        start.wait()
        return claims.release(iid)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: release(), range(8)))
    assert results.count(True) == 1
    assert usage() == (0, 0, 0, 0)


def test_concurrent_claims_never_over_allocate(
    ratios, add_host, add_instance, get_row
):
    # Room for exactly 5 small instances (by memory); 16 race for it.
    add_host("hv1", vcpus=64, memory_mb=5 * 512, disk_gb=1000)
    iids = [add_instance(name=f"w{i}")[0] for i in range(16)]
    start = threading.Barrier(len(iids))

    def try_claim(iid):
        start.wait()
        try:
            claim_for(iid)
            return True
        except claims.ClaimLost:
            return False

    with concurrent.futures.ThreadPoolExecutor(len(iids)) as pool:
        results = list(pool.map(try_claim, iids))
    assert results.count(True) == 5
    assert usage() == (5, 2560, 25, 5)
    placed = [i for i in iids if get_row(models.Instance, i).claimed]
    assert len(placed) == 5
    assert all(
        get_row(models.Instance, i).status == "pending"
        for i in set(iids) - set(placed)
    )


@pytest.mark.parametrize("state", [{"enabled": False}, {"maintenance": True}])
def test_a_host_taken_out_of_service_after_selection_refuses_the_claim(
    ratios, add_host, add_instance, get_row, state
):
    """The selector read the host in service; an admin disabled it (or put
    it in maintenance) before the claim: the claim is lost, the build
    moves on to another host, and the host holds nothing."""
    add_host("hv1", vcpus=4, memory_mb=4096, disk_gb=100, **state)
    iid, _ = add_instance()
    with pytest.raises(claims.ClaimLost):
        claim_for(iid)
    assert usage() == (0, 0, 0, 0)
    assert get_row(models.Instance, iid).claimed is False
