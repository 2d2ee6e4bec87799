"""Bare metal through the real daemons (RabbitMQ, MariaDB, every agent a
process) with the fake bma driver: enroll -> manage -> provide -> a `bm`
instance running on the node -> delete -> the node available again."""

import hashlib
import os

import pytest
import sqlalchemy as sa

from arame.common import ids
from arame.sdk.resources.baremetal import BaremetalNodeManager

pytestmark = pytest.mark.functional

MAC = "52:54:00:be:ef:01"
PASSWORD = "ft-BMC-s3cret"


@pytest.fixture
def bm(make_deployment, tmp_path):
    imports = tmp_path / "sta-import"
    imports.mkdir()
    dep = make_deployment(
        conf={
            "bma": {"driver": "fake"},
            "sta": {"import_dirs": str(imports)},
            "scheduler": {"agent_call_timeout": 30},
        }
    )
    client = dep.client()
    yield dep, client, imports
    client.close()


def raw_image(dep, imports) -> str:
    """A raw disk image record whose bytes wait in sta's import directory
    (until images are uploaded through the API)."""
    data = os.urandom(64 * 1024)
    iid = ids.generate("image")
    (imports / f"{iid}.raw").write_bytes(data)
    engine = dep.engine()
    try:
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO images (id, name, account_id, visibility, format,"
                    " status, size_bytes, sha256, created_at, updated_at) VALUES "
                    "(:id, 'metal-disk', 'a-admin', 'public', 'raw', 'available',"
                    " :size, :sha, NOW(6), NOW(6))"
                ),
                {
                    "id": iid,
                    "size": len(data),
                    "sha": hashlib.sha256(data).hexdigest(),
                },
            )
    finally:
        engine.dispose()
    return iid


def test_node_lifecycle_and_a_bm_instance(bm):
    dep, client, imports = bm
    nodes = BaremetalNodeManager(client._session)
    tasks = client.tasks

    node = nodes.create(
        "rack1-n1",
        bmc_address="127.0.0.1",
        bmc_port=6230,
        bmc_username="admin",
        bmc_password=PASSWORD,
        macs=[MAC],
        cpus=4,
        memory_mb=4096,
        disk_gb=20,
    )
    nid = node["id"]
    assert node["provision_state"] == "enroll" and "bmc_password" not in node

    t = nodes.manage(nid)
    assert tasks.wait(t["task_id"], timeout=60)["status"] == "done"
    node = nodes.get(nid)
    assert node["provision_state"] == "manageable" and node["bma_host"]
    t = nodes.provide(nid)
    assert tasks.wait(t["task_id"], timeout=60)["status"] == "done"
    node = nodes.get(nid)
    assert (node["provision_state"], node["power_state"]) == (
        "available",
        "off",
    )

    client._session.post(
        "/v1/flavors",
        json={
            "name": "bm.small",
            "provider": "bm",
            "vcpus": 2,
            "memory_mb": 2048,
            "disk_gb": 10,
        },
    )
    inst = client.instances.create(
        name="metal1", flavor="bm.small", image=raw_image(dep, imports)
    )
    task = tasks.wait(inst["task_id"], timeout=90)
    assert task["status"] == "done", task
    assert [e["step"] for e in task["events"]] == [
        "schedule",
        "volume",
        "names",
        "boot",
    ]
    shown = client.instances.get(inst["id"])
    assert (shown["status"], shown["power_state"]) == ("running", "running")
    assert shown["addresses"][0]["mac_address"] == MAC
    node = nodes.get(nid)
    assert (
        node["provision_state"],
        node["instance_id"],
        node["power_state"],
    ) == ("active", inst["id"], "on")
    root = [v for v in client.volumes.list() if v["root_of"] == inst["id"]]
    assert len(root) == 1

    d = client.instances.delete(inst["id"])
    task = tasks.wait(d["task_id"], timeout=90)
    assert task["status"] == "done", task
    assert [e["step"] for e in task["events"]] == [
        "power-off",
        "volume",
        "unname",
        "clean",
    ]
    assert client.instances.get(inst["id"])["status"] == "terminated"
    node = nodes.get(nid)
    assert (
        node["provision_state"],
        node["instance_id"],
        node["power_state"],
    ) == ("available", None, "off")
    assert client.volumes.get(root[0]["id"])["status"] == "deleted"

    assert not dep.logs_with_errors()
    for name in os.listdir(dep.log_dir):
        with open(os.path.join(dep.log_dir, name), errors="replace") as f:
            assert PASSWORD not in f.read(), name


def test_a_bm_unit_beside_a_vm_unit_in_one_group(bm):
    """The VCP hands-on's second provider: a bare-metal unit and a VM unit
    in one group, the same calls on both, and the cleanup gives the node
    back."""
    dep, client, imports = bm
    nodes = BaremetalNodeManager(client._session)
    node = nodes.create(
        "rack1-n2",
        bmc_address="127.0.0.1",
        bmc_port=6231,
        bmc_username="admin",
        bmc_password=PASSWORD,
        macs=["52:54:00:be:ef:02"],
        cpus=4,
        memory_mb=4096,
        disk_gb=20,
    )
    for step in (nodes.manage, nodes.provide):
        t = step(node["id"])
        assert client.tasks.wait(t["task_id"], timeout=60)["status"] == "done"
    client._session.post(
        "/v1/flavors",
        json={
            "name": "bm.unit",
            "provider": "bm",
            "vcpus": 2,
            "memory_mb": 2048,
            "disk_gb": 10,
        },
    )
    client.unit_groups.create("mixed")
    vm = client.units.create(
        "mixed",
        "vm-server",
        {
            "provider": "vm",
            "flavor": "small",
            "image": client.images.list()[0]["id"],
        },
        count=1,
    )
    metal = client.units.create(
        "mixed",
        "bm-server",
        {
            "provider": "bm",
            "flavor": "bm.unit",
            "image": raw_image(dep, imports),
        },
        count=1,
    )
    for u in (vm, metal):
        assert client.tasks.wait(u["task_id"], timeout=90)["status"] == "done"
    got = client.units.get(metal["id"])
    assert got["state"] == "running" and got["nodes"][0]["ip_address"]
    # Both units' nodes are on the one default network.
    nets = {
        client.instances.get(client.units.get(u["id"])["nodes"][0]["id"])[
            "addresses"
        ][0]["network_id"]
        for u in (vm, metal)
    }
    assert len(nets) == 1
    # The same calls on both providers.
    for u in (vm, metal):
        t = client.units.power_off(u["id"])
        assert client.tasks.wait(t["task_id"], timeout=90)["status"] == "done"
        assert client.units.get(u["id"])["state"] == "power_off"
        t = client.units.power_on(u["id"])
        assert client.tasks.wait(t["task_id"], timeout=90)["status"] == "done"
        assert client.units.get(u["id"])["state"] == "running"
    # A bm flavor in a vm spec is refused naming the field.
    with pytest.raises(Exception, match="spec.provider"):
        client.units.create(
            "mixed",
            "wrong",
            {
                "provider": "vm",
                "flavor": "bm.unit",
                "image": raw_image(dep, imports),
            },
        )
    t = client.unit_groups.delete("mixed")
    assert client.tasks.wait(t["task_id"], timeout=120)["status"] == "done"
    assert nodes.get(node["id"])["provision_state"] == "available"
    assert client.unit_groups.list() == []
