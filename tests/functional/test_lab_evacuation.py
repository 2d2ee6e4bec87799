"""Issue 13 for real: a host dies in the multi-host lab and its guest comes
back on another host, its disk intact.

The session's lab (conftest.arame_lab): h1 the controller and storage node
(zfs-fuse, its own tgtd on its management address), h2 and h3 hypervisors
each with its own libvirtd and its own iSCSI initiator address. A guest
booted on h2 from an iSCSI clone of the raw test disk writes a marker to
that disk; h2 "dies" (SIGKILL to everything in it: hva, libvirtd,
virtlogd, qemu); once it is down the operator evacuates it
(POST /v1/hosts/lab-h2/evacuate): h2's initiator is fenced off the
volume's export, the same clone is exported to h3, the guest boots there
with the same address and MAC and reads its marker back. Then h2 boots
again: libvirt still has the guest's domain, and hva destroys that stale
copy before it reports up.

The figure printed is the one the issue asks for: from the host's death
to its guest running elsewhere (the default liveness, [DEFAULT]
service_down_time 30 s, is most of it)."""

import re
import time

import pytest
from conftest import lab_console, wait_until

pytestmark = pytest.mark.functional

BOOT_TIMEOUT = 180  # TCG on a loaded 2-core machine
DOWN_TIMEOUT = 90  # service_down_time (30 s) and a heartbeat or two

# User data, run at every boot: the root disk is the one with the test
# disk's MBR signature ("EMRA", rawdisk.py); sector 64 lies in the gap
# before its partition. The first boot writes its own boot id there; a
# later boot that finds one prints it. fsync: through the guest's cache,
# qemu's and tgtd's to disk.raw on the ZFS clone, before the host dies.
MARKER_SCRIPT = r"""#!/bin/sh
root=
for d in /dev/vd?; do
    [ "$(dd if=$d bs=1 skip=440 count=4 2>/dev/null)" = EMRA ] && root=$d
done
got=$(dd if=$root bs=512 skip=64 count=1 2>/dev/null | tr -d '\000')
case $got in
    LABEVAC-*) echo "LABEVAC found=$got" ;;
    *)
        mark="LABEVAC-$(cat /proc/sys/kernel/random/boot_id)"
        printf '%s' "$mark" \
            | dd of=$root bs=512 seek=64 conv=sync,notrunc,fsync 2>/dev/null
        echo "LABEVAC wrote=$mark" ;;
esac
"""


@pytest.fixture(scope="module")
def lab(arame_lab):
    return arame_lab


@pytest.fixture(scope="module")
def client(lab_client):
    return lab_client


console = lab_console


def wait_console(client, iid, pattern, timeout=BOOT_TIMEOUT) -> re.Match:
    return wait_until(
        lambda: re.search(pattern, console(client, iid)),
        timeout,
        f"{pattern!r} on {iid}'s console",
        interval=0.5,
    )


def host_state(client, name) -> str | None:
    return next(
        (h["state"] for h in client.hosts.list(all=True) if h["name"] == name),
        None,
    )


def acl(lab, iqn) -> list[str]:
    """The initiator addresses h1's tgtd lets into target `iqn`."""
    out, mine, in_acl = [], False, False
    for line in lab.store.targets().splitlines():
        if line.startswith("Target "):
            mine = line.split()[-1] == iqn
            in_acl = False
        elif mine and line.strip() == "ACL information:":
            in_acl = True
        elif mine and in_acl and line.startswith(" " * 8):
            out.append(line.strip())
    return out


def test_a_dead_hosts_guest_comes_back_on_another_with_its_disk(lab, client):
    h2, h3 = lab.host("lab-h2"), lab.host("lab-h3")
    disk = next(
        i["id"] for i in client.images.list() if i["name"] == "arame-test-disk"
    )
    # On h2: h3 out of the choice while it is placed.
    client.hosts.disable(h3.name, reason="test_lab_evacuation: placing")
    try:
        made = client.instances.create(
            name="evac-a",
            flavor="small",
            image=disk,
            ha_enabled=True,
            user_data=MARKER_SCRIPT,
        )
        task = client.tasks.wait(made["task_id"], timeout=BOOT_TIMEOUT)
        assert task["status"] == "done", task
    finally:
        client.hosts.enable(h3.name)
    iid = made["id"]
    before = client.instances.get(iid)
    assert before["host"] == h2.name
    assert "volume" in [e["step"] for e in task["events"]]
    wrote = wait_console(client, iid, r"LABEVAC wrote=(LABEVAC-[0-9a-f-]+)")
    mark = wrote.group(1)
    ip = before["addresses"][0]["ip_address"]
    assert f"ARAME-TEST-IMAGE ip={ip}/" in console(client, iid)
    xml = lab.virsh(h2, "dumpxml", iid).stdout
    assert "protocol='iscsi'" in xml
    iqn = re.search(r"<source protocol='iscsi' name='([^/']+)/", xml)[1]
    assert acl(lab, iqn) == [h2.mgmt_ip]

    # h2 dies: every process in it at once, no clean-up.
    died = time.monotonic()
    assert lab.kill_host(h2)
    wait_until(
        lambda: host_state(client, h2.name) == "down",
        DOWN_TIMEOUT,
        "lab-h2 down",
    )
    down = time.monotonic()
    answer = client.hosts.evacuate(h2.name)
    (mine,) = [t for t in answer["tasks"] if t["instance_id"] == iid]
    ended = client.tasks.wait(mine["task_id"], timeout=BOOT_TIMEOUT)
    assert ended["status"] == "done", ended
    running = time.monotonic()
    steps = [e["step"] for e in ended["events"]]
    assert steps[:2] == ["check", "fence"] and "volume" in steps, steps
    assert "rebuild" not in steps  # the same clone, not the image again
    # Fenced: h2's initiator is off the export, h3's alone is on it.
    assert client.hosts.evacuate(h2.name)["fenced_at"] is not None
    assert acl(lab, iqn) == [h3.mgmt_ip]

    after = client.instances.get(iid)
    assert (after["status"], after["host"]) == ("running", h3.name)
    assert after["addresses"] == before["addresses"]
    # (test_lab.py's guest on h2, ha_enabled by default, moves with it)
    assert iid in lab.virsh(h3, "list", "--name").stdout.split()
    mac = before["addresses"][0]["mac_address"]
    assert mac in lab.virsh(h3, "domiflist", iid).stdout
    # The marker the first boot wrote, read back by the second.
    found = wait_console(client, iid, r"LABEVAC found=(LABEVAC-[0-9a-f-]+)")
    back = time.monotonic()
    assert found.group(1) == mark
    wait_console(client, iid, rf"ARAME-TEST-IMAGE ip={re.escape(ip)}/")
    print(
        f"\nlab: host death -> guest running on {h3.name} "
        f"({len(answer['tasks'])} guest(s) evacuated): "
        f"{running - died:.1f} s ({down - died:.1f} s to be seen down, "
        f"evacuation {running - down:.1f} s); its marker read back from "
        f"the disk {back - died:.1f} s after the death"
    )

    # h2 boots again. libvirt still defines the guest (shut off) ...
    lab.start_libvirt(h2)
    assert iid in lab.virsh(h2, "list", "--all", "--name").stdout.split()
    # ... and hva destroys that stale copy before it reports up: checked
    # at every look, the host's state first.
    lab.start_agents(h2)

    def up_without_the_copy():
        up = host_state(client, h2.name) == "up"
        left = lab.virsh(h2, "list", "--all", "--name").stdout.split()
        assert not (up and iid in left), "lab-h2 up beside its stale copy"
        return up

    wait_until(up_without_the_copy, DOWN_TIMEOUT, "lab-h2 up again")
    assert iid not in lab.virsh(h2, "list", "--all", "--name").stdout.split()
    with open(lab.supervisor(h2).get("hva").log, errors="replace") as f:
        assert f"destroying the stale copy of {iid}" in f.read()
    # The guest on h3 is untouched, its export still h3's alone.
    assert client.instances.get(iid)["host"] == h3.name
    assert acl(lab, iqn) == [h3.mgmt_ip]
