"""Real guests (libvirt, QEMU) made with a sized root, two key pairs and a
96 KiB script: each guest proves on its serial console what reached it
(its root disk's size, both keys, the script whole), for a local overlay
and for a root volume cloned on the storage node."""

import hashlib

import pytest
from conftest import BOOT_TIMEOUT, wait_task, wait_until

pytestmark = pytest.mark.functional

MARK = "ARAME-TEST-IMAGE"
ROOT_GB = 8  # the small flavor's disk is 5
ED25519 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID6SmRWCC3iwp+tNoGiCSACiLWuC"
    "VE5CY2hC4tBz4Ow7 second@host"
)


def _script() -> str:
    """A script that reports its root disk and itself, padded to 96 KiB
    with comments (VCP's setup scripts go to 93 KB)."""
    head = (
        "#!/bin/sh\n"
        'echo "SPEC root-sectors=$(cat /sys/block/vda/size)'
        " script-bytes=$(wc -c < /run/user-data)"
        ' script-md5=$(md5sum < /run/user-data | cut -d" " -f1)"'
        " > /dev/console\n"
    )
    pad = 96 * 1024 - len(head.encode())
    lines = []
    while pad > 0:
        n = min(pad, 80)
        lines.append("#" + "p" * (n - 2) + "\n" if n >= 2 else "\n")
        pad -= n
    script = head + "".join(lines)
    assert len(script.encode()) == 96 * 1024
    return script


def _console(client, iid) -> str:
    return client.instances.console(iid)["output"]


def test_sized_root_two_keys_and_96_kib_script_reach_real_guests(
    vm_client, vm_image
):
    a = vm_client.key_pairs.create(name="spec-vm-a")
    b = vm_client.key_pairs.create(name="spec-vm-b", public_key=ED25519)
    disk_image = next(
        i["id"]
        for i in vm_client.images.list()
        if i["name"] == "arame-test-disk"
    )
    script = _script()
    made = [
        vm_client.instances.create(
            name=name,
            flavor="small",
            image=image,
            root_gb=ROOT_GB,
            key_pairs=[a["id"], b["id"]],
            user_data=script,
        )
        for name, image in (
            ("spec-local", vm_image),
            ("spec-iscsi", disk_image),
        )
    ]
    steps = {}
    for inst in made:
        task = wait_task(vm_client, inst["task_id"])
        steps[inst["name"]] = [e["step"] for e in task["events"]]
    assert "volume" not in steps["spec-local"]
    assert "volume" in steps["spec-iscsi"]

    want = (
        f"SPEC root-sectors={ROOT_GB * 2**30 // 512} "
        f"script-bytes={96 * 1024} "
        f"script-md5={hashlib.md5(script.encode()).hexdigest()}"
    )
    for inst in made:
        iid = inst["id"]
        out = wait_until(
            lambda iid=iid: (
                f"{MARK} ready" in _console(vm_client, iid)
                and _console(vm_client, iid)
            ),
            timeout=BOOT_TIMEOUT,
            what=f"{inst['name']} ready",
            interval=0.5,
        )
        assert want in out, out[-2000:]
        assert f"{MARK} user-data=ran exit=0" in out
        assert f"{MARK} ssh-key={a['fingerprint']}" in out
        assert f"{MARK} ssh-key={b['fingerprint']}" in out
        assert vm_client.instances.get(iid)["root_gb"] == ROOT_GB
    for inst in made:
        d = vm_client.instances.delete(inst["id"])
        wait_task(vm_client, d["task_id"])
