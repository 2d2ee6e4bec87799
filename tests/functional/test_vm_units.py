"""A unit on real guests (libvirt + QEMU): two nodes from one spec with a
root disk larger than the flavor's and two key pairs, each guest proving on
its serial console what reached it; their metrics; the cleanup leaves no
domain behind."""

import pytest
from conftest import BOOT_TIMEOUT, virsh, wait_until

pytestmark = pytest.mark.functional

MARK = "ARAME-TEST-IMAGE"
ROOT_GB = 8  # the flavor "small" has 5
# The guest reports the size of its root disk, in 512-byte sectors.
USER_DATA = "#!/bin/sh\necho ROOT-SECTORS=$(cat /sys/block/vda/size)\n"


def console(client, iid) -> str:
    return client.instances.console(iid)["output"]


def ended(client, task_id, timeout=BOOT_TIMEOUT):
    return wait_until(
        lambda: (
            t
            if (t := client.tasks.get(task_id))["status"] in ("done", "failed")
            else None
        ),
        timeout,
        f"task {task_id} to end",
        interval=0.5,
    )


def test_a_two_node_unit_of_real_guests(vm_client, vm_image):
    keys = [vm_client.key_pairs.create(name=f"unitkey{n}") for n in (1, 2)]
    vm_client.unit_groups.create("realunits")
    spec = {
        "provider": "vm",
        "flavor": "small",
        "image": vm_image,
        "root_gb": ROOT_GB,
        "key_pairs": [k["name"] for k in keys],
        "user_data": USER_DATA,
    }
    unit = vm_client.units.create("realunits", "node", spec, count=2)
    try:
        task = ended(vm_client, unit["task_id"])
        assert task["status"] == "done", task
        got = vm_client.units.get(unit["id"])
        assert got["state"] == "running" and got["node_count"] == 2
        for node in got["nodes"]:
            out = wait_until(
                lambda n=node: (
                    f"{MARK} ready" in (o := console(vm_client, n["id"])) and o
                ),
                BOOT_TIMEOUT,
                f"{node['name']} ready",
                interval=0.5,
            )
            for k in keys:
                assert f"{MARK} ssh-key={k['fingerprint']}" in out
            assert f"ROOT-SECTORS={ROOT_GB * 1024**3 // 512}" in out
            shown = vm_client.instances.get(node["id"])
            assert shown["root_gb"] == ROOT_GB
            assert shown["unit"] == unit["id"]
            assert [k["id"] for k in keys] == shown["key_pairs"]
        # Their metrics, as a notebook's node.metrics() reads them.
        for node in got["nodes"]:
            wait_until(
                lambda n=node: vm_client.instances.metrics(n["id"])["samples"],
                60,
                f"metrics of {node['name']}",
                interval=1,
            )
    finally:
        cleanup = vm_client.unit_groups.delete("realunits")
        assert ended(vm_client, cleanup["task_id"])["status"] == "done"
    names = virsh("list", "--all", "--name").split()
    assert not {n["id"] for n in got["nodes"]} & set(names)
