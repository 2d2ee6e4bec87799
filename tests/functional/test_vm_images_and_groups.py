"""Real guests (libvirt, QEMU) for two changes made after create: a deleted
image leaves the hypervisor's image cache and store once no guest uses it,
and an instance's security groups replaced while its guest runs change
what reaches it at once."""

import os
import shutil

import pytest
import sqlalchemy as sa
from conftest import BOOT_TIMEOUT, wait_task, wait_until

from arame.common import ids
from arame.sdk.errors import ArameError

pytestmark = pytest.mark.functional

MARK = "ARAME-TEST-IMAGE"


def console(client, iid) -> str:
    return client.instances.console(iid)["output"]


def wait_marker(client, iid, text, count=1, timeout=BOOT_TIMEOUT) -> str:
    return wait_until(
        lambda: (
            console(client, iid).count(text) >= count and console(client, iid)
        ),
        timeout,
        f"{text!r} x{count} on {iid}'s console",
        interval=0.5,
    )


def copy_of_image(dep, client, image_id) -> str:
    """A private image of the admin with the same bytes as `image_id`, in
    the hypervisor's image store (where kernel images are read from)."""
    src = client.images.get(image_id)
    new = ids.generate("image")
    store = dep.conf["libvirt"]["image_store_path"]
    os.makedirs(os.path.join(store, new))
    shutil.copy(
        os.path.join(store, image_id, "data"),
        os.path.join(store, new, "data"),
    )
    eng = dep.engine()
    try:
        with eng.begin() as db:
            db.execute(
                sa.text(
                    "INSERT INTO images (id, name, account_id, visibility, "
                    "format, status, size_bytes, sha256, created_at, "
                    "updated_at) VALUES (:id, 'doomed', 'a-admin', "
                    "'private', :fmt, 'available', :size, :sha, "
                    "UTC_TIMESTAMP(), UTC_TIMESTAMP())"
                ),
                {
                    "id": new,
                    "fmt": src["format"],
                    "size": src["size_bytes"],
                    "sha": src["sha256"],
                },
            )
    finally:
        eng.dispose()
    return new


def test_a_deleted_image_leaves_the_hypervisors_cache_and_store(
    vm_deployment, vm_client, vm_image
):
    img = copy_of_image(vm_deployment, vm_client, vm_image)
    base = os.path.join(
        vm_deployment.conf["libvirt"]["instances_path"], "_base"
    )
    store = vm_deployment.conf["libvirt"]["image_store_path"]
    inst = vm_client.instances.create(name="cached", flavor="small", image=img)
    wait_task(vm_client, inst["task_id"])
    assert sorted(os.listdir(os.path.join(base, img))) == [
        "initrd",
        "vmlinuz",
    ]

    with pytest.raises(ArameError) as e:
        vm_client.images.delete(img)
    assert e.value.status_code == 409 and inst["id"] in e.value.message

    wait_task(vm_client, vm_client.instances.delete(inst["id"])["task_id"])
    vm_client.images.delete(img)
    [task] = vm_client.tasks.list(resource_id=img)
    task = wait_task(vm_client, task["id"], timeout=120)
    host = next(
        h["name"] for h in vm_client.hosts.list() if h.get("hypervisor_type")
    )
    assert ("cache", "done", host) in [
        (e["step"], e["status"], e["host"]) for e in task["events"]
    ], task
    assert not os.path.exists(os.path.join(base, img))
    assert not os.path.exists(os.path.join(store, img))
    # The image it was copied from is untouched.
    assert os.path.exists(os.path.join(store, vm_image, "data"))


def _pinger(target_ip: str) -> str:
    return (
        "#!/bin/sh\n"
        "( while true; do\n"
        f"  if ping -c 1 -W 1 {target_ip} >/dev/null 2>&1; then\n"
        "    echo PROBE ping ok; else echo PROBE ping fail; fi\n"
        "  sleep 1\n"
        "done ) &\n"
    )


def test_an_instances_new_groups_apply_live_on_its_guest(
    vm_deployment, vm_client, vm_image
):
    """A in `default`, C in `outsiders` pinging A: dropped; C's groups
    become `default` (whose members reach each other): its pings pass;
    back to `outsiders`: cut again."""
    outsiders = vm_client.security_groups.create(name="outsiders-live")
    a = vm_client.instances.create(name="sg-a", flavor="small", image=vm_image)
    a_ip = a["addresses"][0]["ip_address"]
    c = vm_client.instances.create(
        name="sg-c",
        flavor="small",
        image=vm_image,
        security_groups=[outsiders["id"]],
        user_data=_pinger(a_ip),
    )
    for inst in (a, c):
        wait_task(vm_client, inst["task_id"])
    wait_marker(vm_client, a["id"], f"{MARK} ready")
    wait_marker(vm_client, c["id"], "PROBE ping fail", count=3)
    assert "PROBE ping ok" not in console(vm_client, c["id"])

    upd = vm_client.instances.set_security_groups(c["id"], ["default"])
    task = wait_task(vm_client, upd["task_id"], timeout=60)
    host = vm_client.instances.get(c["id"])["host"]
    assert ("apply", "done", host) in [
        (e["step"], e["status"], e["host"]) for e in task["events"]
    ]
    wait_marker(vm_client, c["id"], "PROBE ping ok", timeout=30)

    upd = vm_client.instances.set_security_groups(c["id"], [outsiders["id"]])
    wait_task(vm_client, upd["task_id"], timeout=60)
    before = console(vm_client, c["id"]).count("PROBE ping fail")
    wait_marker(
        vm_client, c["id"], "PROBE ping fail", count=before + 3, timeout=30
    )
    tail = console(vm_client, c["id"]).rsplit("PROBE ping ok", 1)[1]
    assert tail.count("PROBE ping fail") >= 3

    for inst in (a, c):
        wait_task(vm_client, vm_client.instances.delete(inst["id"])["task_id"])
    assert vm_deployment.logs_with_errors() == {}
