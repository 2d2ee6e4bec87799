"""The chaos suite's deployment on real drivers: guests under libvirt/QEMU
in the lab namespace, root volumes cloned by ZFS on zfs-fuse and exported
by tgt, names served by dnsmasq. The drivers are configured exactly as
tests/functional's vm_deployment configures them (the traps of this
machine are encoded there: qemu's files outside pytest's 0700 tree, a
subnet of the deployment's own in the one lab namespace, a deployment
root under VM_ROOT that names its owner so that a later run clears what
a dead one left).

Recovery runs on the shipped defaults, as in the fake-driver suite:
heartbeats, service_down_time, leases and sweeps are not shortened
(tests/functional's BASE_CONF declares an agent down after 4 s, so every
restart would be a host failure and not the restart this suite is about).
"""

import contextlib
import os
import random
import shutil
import time
import uuid

from arame.deploy import infra
from tests.chaos.deployment import ADMIN_PASSWORD, ChaosDeployment
from tests.functional.conftest import (
    VM_ROOT,
    _clear_leftovers,
    _own_default_subnet,
)
from tests.helpers.ports import free_port

# The vm_deployment's roles: one scheduler (the schedulers' own faults
# are the fake-driver suite's; two cores run the guests here).
ROLES = ("collector", "scheduler", "hva", "nsa", "sta", "api")


def real_conf(name: str, root: str, netns: str) -> dict:
    """tests/functional/conftest.py vm_deployment's drivers, for the
    deployment `name` whose guests' files live under `root`."""
    underlay_ip = infra.LAB_UNDERLAY[1].split("/")[0]
    return {
        "DEFAULT": {"host": f"hv-{name[3:]}"},
        "hva": {"driver": "libvirt"},
        "libvirt": {
            "plumbing_netns": netns,
            "instances_path": os.path.join(root, "instances"),
            "image_store_path": os.path.join(root, "images"),
            "shutdown_timeout": 30,
            "kernel_cmdline": "console=ttyS0 panic=-1 loglevel=4",
            "iscsi_initiator_address": underlay_ip,
        },
        "hva_networking": {"underlay_device": infra.LAB_UNDERLAY[0]},
        "nsa": {
            "driver": "dnsmasq",
            "netns": netns,
            "state_path": os.path.join(root, "nsa"),
        },
        "sta": {
            "backend": "zfs",
            "target": "tgt",
            "pool": f"cx{name[3:]}",
            "pool_size_gb": 20,
            "iscsi_address": underlay_ip,
            "iscsi_port": random.randrange(3300, 3900),
            "tgt_control_port": random.randrange(1000, 30000),
            "import_dirs": os.path.join(root, "sta-import"),
        },
        # The functional tests' allowance for a real agent's operation
        # (an image imported into the pool on a loaded machine).
        "scheduler": {"agent_call_timeout": 120},
    }


@contextlib.contextmanager
def real_deployment(infrastructure, tmp_path_factory):
    """A running ChaosDeployment on the real drivers; dropped afterwards
    (its guests, pool, tgtd, bridges, vhost and database removed)."""
    rabbit, mariadb = infrastructure
    lab = infra.Libvirt()
    lab.ensure_running()
    _clear_leftovers()
    name = "cx_" + uuid.uuid4().hex[:8]
    # qemu runs as an unprivileged user: its files live outside pytest's
    # private (0700) temporary tree.
    root = os.path.join(VM_ROOT, name)
    os.makedirs(root, mode=0o755)
    os.chmod(VM_ROOT, 0o755)
    with open(os.path.join(root, "owner.pid"), "w") as f:
        f.write(str(os.getpid()))
    dep = ChaosDeployment(
        name,
        str(tmp_path_factory.mktemp(name)),
        api_port=free_port(),
        admin_password=ADMIN_PASSWORD,
        conf=real_conf(name, root, lab.netns),
        rabbit=rabbit,
        mariadb=mariadb,
    )
    prepared = False
    try:
        dep.prepare()
        prepared = True
        _own_default_subnet(dep, lab.netns)
        for role in ROLES:
            dep.start(role)
        # The first start of an hva on a machine probes KVM (up to 20 s).
        dep.wait_ready(120, hypervisors=1)
        yield dep
    finally:
        rabbit.ensure_running()
        mariadb.ensure_running()
        if prepared:
            _delete_instances(dep)
        dep.down(drop=True)
        shutil.rmtree(root, ignore_errors=True)


def _delete_instances(dep) -> None:
    """Its instances deleted through the API before the drop (best
    effort): the drop removes guests with virsh, which leaves their
    firewall chains in the lab namespace for the next deployment's hva
    to find."""
    try:
        c = dep.client(timeout=30)
        tasks = [
            c.instances.delete(i["id"])["task_id"]
            for i in c.instances.list()
            if i["status"] not in ("terminated", "shuttingdown")
        ]
        deadline = time.monotonic() + 60
        for t in tasks:
            c.tasks.wait(t, timeout=max(1, deadline - time.monotonic()))
    except Exception as e:  # noqa: BLE001 - the test's outcome matters more
        print(f"deleting the instances before the drop: {e}")
