"""Where an instance's root volume goes: a storage node with room for the
disk, the one already holding the image first; none with room -> the
local disk."""

import types

import pytest

from arame.common.db import engine, models
from arame.scheduler.flows import root_volume
from tests.unit.scheduler.flows import test_volume_flows as flows_tests

add_sta = flows_tests.add_sta
GiB = 1024**3


@pytest.fixture
def world(db, add_sta):
    now = models.utcnow()
    with engine.session() as s:
        s.add(models.Account(id="a-rv000001", name="rv"))
        s.flush()
        s.add(
            models.Host(
                id="h-1",
                name="hv1",
                hypervisor_type="qemu",
                storage_address="198.18.0.1",
            )
        )
        s.add(
            models.Image(
                id="img-1",
                name="disk",
                account_id="a-rv000001",
                format="raw",
                status="available",
                size_bytes=GiB,
                sha256="a" * 64,
                created_at=now,
                updated_at=now,
            )
        )
    for name in ("st1", "st2", "st3"):
        add_sta(name)

    def pool(name, free_gb):
        with engine.session() as s:
            s.add(
                models.StorageNode(
                    name=name,
                    pool="p",
                    volume_mode="file",
                    size_bytes=100 * GiB,
                    free_bytes=int(free_gb * GiB),
                    allocated_bytes=0,
                    provisioned_bytes=0,
                    reported_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )

    def located(name):
        with engine.session() as s:
            s.add(models.ImageLocation(image_id="img-1", storage_node=name))

    return types.SimpleNamespace(pool=pool, located=located)


def inst(disk_gb, root_gb=None):
    return types.SimpleNamespace(
        image_id="img-1", disk_gb=disk_gb, root_gb=root_gb
    )


def test_the_node_holding_the_image_is_chosen_when_it_has_room(world):
    world.pool("st1", 50)
    world.pool("st2", 50)
    world.located("st2")
    p = root_volume.plan(inst(10), "hv1")
    assert (p["node"], p["image_located"]) == ("st2", True)


def test_a_full_node_is_passed_over_even_if_it_holds_the_image(world):
    world.pool("st1", 2)
    world.pool("st2", 50)
    world.pool("st3", 1)
    world.located("st1")
    p = root_volume.plan(inst(10), "hv1")
    assert (p["node"], p["image_located"]) == ("st2", False)


def test_a_sized_root_needs_room_for_its_size(world):
    world.pool("st1", 20)
    world.pool("st2", 50)
    world.located("st1")
    assert root_volume.plan(inst(10, root_gb=30), "hv1")["node"] == "st2"
    assert root_volume.size_gb(inst(10, root_gb=30)) == 30
    assert root_volume.size_gb(inst(0)) == 1


def test_no_node_with_room_means_a_local_disk(world):
    for n in ("st1", "st2", "st3"):
        world.pool(n, 1)
    assert root_volume.plan(inst(10), "hv1") is None
