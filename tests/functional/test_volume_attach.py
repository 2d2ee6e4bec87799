"""A data volume hot-plugged into a real guest and out again: API ->
scheduler -> sta (ZFS on zfs-fuse, tgt export with CHAP to this host only)
-> hva (libvirt attachDeviceFlags of an iSCSI disk through qemu's own
initiator, the password in a libvirt secret) -> the guest sees the disk.

The test image prints nothing on hot-plug by itself: the instance's user
data runs a watcher that prints the guest's virtio disks (name, serial,
size in sectors) whenever they change. After detach, and after the
instance is deleted with a volume attached, nothing is left: no disk in
the domain, no secret, no target; deleting the volume leaves no dataset.
"""

import re
import subprocess

import httpx
import pytest
import sqlalchemy as sa
from conftest import BOOT_TIMEOUT, virsh, wait_task

from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional

SECTORS_1G = (1 << 30) // 512

# Prints "DISKS vda:<serial>:<sectors> vdb:..." at start and at every change.
WATCH_DISKS = """#!/bin/sh
( old=
  while :; do
    now=
    for d in /sys/class/block/vd*; do
      [ -e "$d/device" ] || continue
      n=${d##*/}
      now="$now $n:$(cat "$d/serial" 2>/dev/null):$(cat "$d/size")"
    done
    if [ "$now" != "$old" ]; then echo "DISKS$now"; old=$now; fi
    sleep 1
  done ) &
"""


@pytest.fixture
def cleanup(vm_client):
    """What a failed test leaves is deleted through the API (best effort):
    instances first, so that their volumes are released."""
    made = {"instances": [], "volumes": []}
    yield made
    for kind in ("instances", "volumes"):
        for rid in made[kind]:
            try:
                if getattr(vm_client, kind).get(rid)["status"] not in (
                    "terminated",
                    "deleted",
                ):
                    vm_client.tasks.wait(
                        getattr(vm_client, kind).delete(rid)["task_id"],
                        timeout=120,
                    )
            except Exception as e:  # noqa: BLE001 - the test's failure matters more
                print(f"cleanup of {rid}: {e}")


def disks_lines(vm_client, iid) -> list[str]:
    out = vm_client.instances.console(iid)["output"]
    # Not anchored: the console's shell prompt may precede a line.
    return re.findall(r"DISKS[^\r\n]*", out)


def wait_disks(vm_client, iid, predicate, what):
    """The guest's latest disk list, once it satisfies predicate."""

    def latest():
        lines = disks_lines(vm_client, iid)
        return lines and predicate(lines[-1]) and lines[-1]

    return wait_until(latest, BOOT_TIMEOUT, what, interval=0.5)


def targets(dep) -> str:
    return subprocess.run(
        [
            "tgtadm",
            "-C",
            str(dep.conf["sta"]["tgt_control_port"]),
            "--lld",
            "iscsi",
            "--op",
            "show",
            "--mode",
            "target",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout


def volume_row(dep, vid):
    with dep.engine().connect() as db:
        return db.execute(
            sa.text(
                "SELECT status, instance_id, device, chap_secret FROM volumes "
                "WHERE id = :v"
            ),
            {"v": vid},
        ).one()


def test_a_data_volume_is_hot_plugged_into_a_running_guest_and_out(
    vm_deployment, vm_client, vm_image, cleanup
):
    dep = vm_deployment
    initiator = dep.conf["libvirt"]["iscsi_initiator_address"]
    inst = vm_client.instances.create(
        name="att1", flavor="small", image=vm_image, user_data=WATCH_DISKS
    )
    iid = inst["id"]
    cleanup["instances"].append(iid)
    vol = vm_client.volumes.create(name="data1", size_gb=1)
    vid = vol["id"]
    cleanup["volumes"].append(vid)
    wait_task(vm_client, vol["task_id"])
    wait_task(vm_client, inst["task_id"])
    before = wait_disks(
        vm_client,
        iid,
        lambda line: "vd" in line,
        "the guest's first disk list",
    )
    assert vid not in before

    # -- attach to the running guest ------------------------------------
    task = wait_task(vm_client, vm_client.volumes.attach(vid, iid)["task_id"])
    assert [(e["step"], e["status"]) for e in task["events"]] == [
        ("check", "done"),
        ("export", "done"),
        ("attach", "done"),
    ]
    shown = vm_client.volumes.get(vid)
    assert (shown["status"], shown["instance_id"]) == ("attached", iid)
    _, _, device, secret = volume_row(dep, vid)
    assert re.fullmatch(r"vd[b-z]", device), device

    blk = virsh("domblklist", iid)
    assert re.search(
        rf"^\s*{device}\s+iqn\.\S+:{vid}/1\s*$", blk, re.MULTILINE
    ), blk
    live = virsh("dumpxml", iid)
    assert f"<serial>{vid}</serial>" in live and "protocol='iscsi'" in live
    assert secret not in live
    # In the persistent config too: a stop and start keep the disk.
    assert f"<serial>{vid}</serial>" in virsh("dumpxml", "--inactive", iid)
    assert f"{iid}-{vid}" in virsh("secret-list")

    # The guest got it: the serial is the volume id, 1 GiB read through
    # qemu's initiator from the storage node.
    wait_disks(
        vm_client,
        iid,
        lambda line: f" {device}:{vid}:{SECTORS_1G}" in line,
        f"{device} in the guest",
    )
    # The storage node sees this host's initiator logged in, CHAP bound.
    shown_targets = targets(dep)
    block = shown_targets.split(f":{vid}\n", 1)[1].split("\nTarget ", 1)[0]
    assert f"IP Address: {initiator}" in block, block
    assert initiator in block.split("ACL information:", 1)[1]

    # Attaching it again is refused with the state.
    r = httpx.post(
        f"{dep.api_url}/v1/volumes/{vid}/actions",
        headers={"Authorization": f"Bearer {vm_client.token}"},
        json={"action": "attach", "instance_id": iid},
    )
    assert r.status_code == 409, r.text
    assert r.json()["error"]["details"]["status"] == "attached"

    # -- detach -----------------------------------------------------------
    task = wait_task(vm_client, vm_client.volumes.detach(vid)["task_id"])
    assert [e["step"] for e in task["events"]] == ["detach", "unexport"]
    shown = vm_client.volumes.get(vid)
    assert (shown["status"], shown["instance_id"]) == ("available", None)
    assert vid not in virsh("dumpxml", iid)
    assert vid not in virsh("dumpxml", "--inactive", iid)
    assert f"{iid}-{vid}" not in virsh("secret-list")
    assert vid not in targets(dep)
    wait_disks(
        vm_client,
        iid,
        lambda line: f" {device}:" not in line,
        f"{device} gone from the guest",
    )

    # -- delete the instance with the volume attached: the volume stays ---
    wait_task(vm_client, vm_client.volumes.attach(vid, iid)["task_id"])
    task = wait_task(vm_client, vm_client.instances.delete(iid)["task_id"])
    assert "release-volume" in [e["step"] for e in task["events"]]
    shown = vm_client.volumes.get(vid)
    assert (shown["status"], shown["instance_id"]) == ("available", None)
    assert vid not in targets(dep)
    assert iid not in virsh("secret-list")

    # -- and deleting the volume leaves nothing on the storage node -------
    wait_task(vm_client, vm_client.volumes.delete(vid)["task_id"])
    pool = dep.conf["sta"]["pool"]
    datasets = subprocess.run(
        ["zfs", "list", "-H", "-o", "name", "-r", pool],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert vid not in datasets
    assert vid not in targets(dep)
