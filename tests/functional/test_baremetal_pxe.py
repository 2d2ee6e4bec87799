"""Bare metal end to end, every piece real, driven over the API as a user
would: a "server" (a libvirt domain `type='qemu'` with no disk that boots
from the network, its serial console in a file) behind our own virtualbmc
on loopback; the deployment's agents real: bma with the ipmitool driver,
sta on zfs-fuse + its own tgtd (portal on the lab's underlay address),
nsa's dnsmasq in the lab namespace. hva is the fake one: a `bm` instance
needs no hypervisor.

The node's NIC is on the bridge nsa makes for the instance's network (named
after the network, in the lab namespace). The node reaches the tgtd
portal through the network's gateway, which is the bridge's own address in
that namespace: the underlay address is local there, so no forwarding is
involved.

Proof: enroll -> manage -> provide -> a `bm` instance `running` on an
`active` node whose console shows the test image's boot marker and its
DHCP address (the instance's); IPMI says on. Delete -> `cleaning` ->
`available`, the domain off, no export, no clone, no boot script. A node
with a wrong BMC password ends `manage` in `error` with the reason, the
other node untouched. Everything made here goes at the end, also after a
failure.
"""

import contextlib
import glob
import os
import random
import shutil
import time
import uuid

import pytest
from conftest import (
    ADMIN_PASSWORD,
    BASE_CONF,
    VM_ROOT,
    Deployment,
    free_port,
    merge,
)

from arame.common import runner
from arame.deploy import infra, storage, testimage
from arame.deploy.pxe_node import PxeNode
from arame.sdk.errors import TaskFailed
from tests.helpers.ports import udp_port
from tests.helpers.subnets import free_subnet
from tests.helpers.vbmc import Vbmcd
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional

MARKER = testimage.MARKER
BMC_USER = "admin"
BMC_PASSWORD = "Bmc-" + uuid.uuid4().hex[:12]
# TCG on two cores shared with other runs: PXE, iSCSI, kernel.
BOOT_DEADLINE = 300.0


class Server(PxeNode):
    """The node: a domain without a disk, network boot first."""

    def __init__(self, name: str, workdir: str, bridge: str, mac: str):
        super().__init__(
            name,
            bridge,
            mac,
            os.path.join(workdir, f"{name}.console.log"),
            os.path.join(workdir, f"{name}.xml"),
        )


@pytest.fixture(scope="module")
def metal(infrastructure, libvirt_lab, tmp_path_factory):
    """The deployment, a network of this run, the server behind vbmcd."""
    rabbit, mariadb = infrastructure
    name = "ft_" + uuid.uuid4().hex[:8]
    run = name[3:]
    # qemu and dnsmasq run unprivileged: their files outside pytest's 0700
    # tree; owner.pid lets a later run clear what a dead one left.
    root = os.path.join(VM_ROOT, name)
    os.makedirs(root, mode=0o755)
    os.chmod(VM_ROOT, 0o755)
    with open(os.path.join(root, "owner.pid"), "w") as f:
        f.write(str(os.getpid()))
    underlay = infra.LAB_UNDERLAY[1].split("/")[0]
    conf = merge(
        BASE_CONF,
        {
            "bma": {
                "driver": "ipmitool",
                "power_sync_interval": 2,
                "password_dir": os.path.join(root, "bma"),
            },
            "nsa": {
                "driver": "dnsmasq",
                "netns": libvirt_lab.netns,
                "state_path": os.path.join(root, "nsa"),
            },
            "sta": {
                "backend": "zfs",
                "target": "tgt",
                "pool": f"ft{run}",
                "pool_size_gb": 20,
                "iscsi_address": underlay,
                "iscsi_port": random.randrange(3300, 3900),
                "tgt_control_port": random.randrange(1000, 30000),
                "import_dirs": os.path.join(root, "sta-import"),
            },
            # install-test also fills the hypervisor's image store.
            "libvirt": {"image_store_path": os.path.join(root, "images")},
            "scheduler": {"agent_call_timeout": 120},
        },
    )
    os.makedirs(conf["bma"]["password_dir"], mode=0o700)
    dep = Deployment(
        name,
        str(tmp_path_factory.mktemp(name)),
        api_port=free_port(),
        admin_password=ADMIN_PASSWORD,
        conf=conf,
        rabbit=rabbit,
        mariadb=mariadb,
    )
    # Undone last first, every step even if one fails.
    c = contextlib.ExitStack()
    networks: set[str] = set()
    c.callback(shutil.rmtree, root, ignore_errors=True)
    # nsa leaves a network's bridge when it stops (hva's libvirt driver
    # would take it along with the deployment; the fake one does not):
    # after the daemons are down, so no dnsmasq is restarted on it.
    c.callback(infra.Libvirt(libvirt_lab.netns).remove_networks, networks)
    c.callback(drop_pool, conf["sta"]["pool"], dep.state_dir)
    c.callback(dep.down, drop=True)
    try:
        t0 = time.monotonic()
        dep.prepare()
        dep.manage("image", "install-test")
        for role in (
            "collector",
            "scheduler",
            "hva",
            "nsa",
            "sta",
            "bma",
            "api",
        ):
            dep.start(role)
        dep.wait_ready(120, hypervisors=1)
        client = dep.client()
        c.callback(client.close)
        net = client.networks.create(
            f"metal-{run}", free_subnet(infra.LAB_NETNS), f"{run}.test"
        )
        networks.add(net["id"])
        vbmcd = Vbmcd(root, BMC_USER, BMC_PASSWORD)
        c.callback(vbmcd.stop)
        mac = "52:54:00:" + ":".join(
            f"{random.randrange(256):02x}" for _ in range(3)
        )
        server = Server(f"arame-{run}-n1", root, net["id"], mac)
        c.callback(server.remove)
        port = udp_port()
        vbmcd.serve(server.name, port)
        c.callback(vbmcd.unserve, server.name)
        print(
            f"\n{name}: deployment + lab ready in {time.monotonic() - t0:.1f}s"
        )
        yield {
            "dep": dep,
            "client": client,
            "net": net,
            "server": server,
            "bmc_port": port,
            "root": root,
            "cleanups": c,
        }
    finally:
        c.close()


def drop_pool(pool: str, state_dir: str) -> None:
    """down() skips the pool when one `zpool list` fails (seen once in a
    benchmark): destroy it, and say so."""
    if pool in storage.ZfsFuse.pools():
        storage.Pool(pool, state_dir).destroy()
        raise AssertionError(f"pool {pool} survived the deployment's down()")


def ipmi_power(root: str, port: int) -> str:
    """`power status` straight from the BMC (password from a 0600 file)."""
    path = os.path.join(root, "ipmi-pw")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(BMC_PASSWORD)
    return runner.run(
        [
            "ipmitool",
            "-I",
            "lanplus",
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            BMC_USER,
            "-f",
            path,
            "power",
            "status",
        ],
        timeout=30,
    ).stdout.strip()


def console_wait(server: Server, text: str, timeout: float, dep) -> float:
    t0 = time.monotonic()
    try:
        wait_until(
            lambda: text in server.console(), timeout, text, interval=0.2
        )
    except AssertionError:
        raise AssertionError(
            f"{text!r} not on the console within {timeout:g} s\nconsole:\n"
            f"{server.console()[-3000:]}\nlogs: {dep.logs_with_errors()}"
        ) from None
    return time.monotonic() - t0


def enroll(client, name, port, password, mac):
    return client.baremetal_nodes.create(
        name,
        bmc_address="127.0.0.1",
        bmc_port=port,
        bmc_username=BMC_USER,
        bmc_password=password,
        macs=[mac],
        cpus=1,
        memory_mb=256,
        disk_gb=1,
    )


def test_bm_instance_pxe_boots_its_clone(metal):
    dep, client, net = metal["dep"], metal["client"], metal["net"]
    server, port, root = metal["server"], metal["bmc_port"], metal["root"]
    nodes, tasks = client.baremetal_nodes, client.tasks

    node = enroll(client, "rack1-n1", port, BMC_PASSWORD, server.mac)
    nid = node["id"]
    metal["cleanups"].callback(nodes.delete, nid)
    assert node["provision_state"] == "enroll"
    t = nodes.manage(nid)
    assert tasks.wait(t["task_id"], timeout=120)["status"] == "done"
    assert nodes.get(nid)["provision_state"] == "manageable"
    t = nodes.provide(nid)
    assert tasks.wait(t["task_id"], timeout=120)["status"] == "done"
    node = nodes.get(nid)
    assert (node["provision_state"], node["power_state"]) == (
        "available",
        "off",
    )
    assert server.state() == "shut off"

    # A typo in another node's BMC password: that node alone is in error.
    other_mac = "52:54:01:" + server.mac[9:]
    bad = enroll(
        client, "rack1-n2", port, "Wrong-" + uuid.uuid4().hex[:8], other_mac
    )
    metal["cleanups"].callback(nodes.delete, bad["id"])
    with pytest.raises(TaskFailed) as failed:
        tasks.wait(nodes.manage(bad["id"])["task_id"], timeout=120)
    assert "wrong password" in str(failed.value)
    bad = nodes.get(bad["id"])
    assert bad["provision_state"] == "error", bad
    assert "BMC refused the credentials" in (bad["status_reason"] or ""), bad
    assert nodes.get(nid)["provision_state"] == "available"
    assert server.state() == "shut off"

    client._session.post(
        "/v1/flavors",
        json={
            "name": "bm.tiny",
            "provider": "bm",
            "vcpus": 1,
            "memory_mb": 256,
            "disk_gb": 1,
        },
    )
    image = next(
        i["id"] for i in client.images.list() if i["name"] == "arame-test-disk"
    )
    t0 = time.monotonic()
    inst = client.instances.create(
        name="metal1", flavor="bm.tiny", image=image, network=net["id"]
    )
    metal["cleanups"].callback(_delete_quietly, client, inst["id"])
    task = tasks.wait(inst["task_id"], timeout=300)
    assert task["status"] == "done", task
    deployed = time.monotonic() - t0
    assert [e["step"] for e in task["events"]] == [
        "schedule",
        "volume",
        "names",
        "boot",
    ]
    shown = client.instances.get(inst["id"])
    assert shown["status"] == "running"
    addr = shown["addresses"][0]
    assert addr["mac_address"] == server.mac
    node = nodes.get(nid)
    assert (node["provision_state"], node["instance_id"]) == (
        "active",
        inst["id"],
    )

    console_wait(server, f"{MARKER} booted", BOOT_DEADLINE, dep)
    booted = time.monotonic() - t0
    console_wait(server, f"{MARKER} ip={addr['ip_address']}/", 90, dep)
    assert server.state() == "running"
    assert ipmi_power(root, port) == "Chassis Power is on"
    root_vol = next(
        v for v in client.volumes.list() if v["root_of"] == inst["id"]
    )
    vol_id = root_vol["id"]
    tgt = dep.conf["sta"]["tgt_control_port"]
    assert vol_id in _targets(tgt), "the root volume is not exported"
    assert any(vol_id in n for n in _zfs_names())
    scripts = _boot_scripts(root, server.mac)
    assert len(scripts) == 1, scripts
    print(
        f"\napi -> task done {deployed:.1f}s, -> boot marker "
        f"{booted:.1f}s, -> ip {time.monotonic() - t0:.1f}s"
    )

    # -- delete: power off, the node cleaned and offered again ------------
    d = client.instances.delete(inst["id"])
    seen = []

    def ended() -> bool:
        # Every state the polls see the node in on the way. The task is
        # read first: the poll that finds it ended then sees the node as
        # the delete left it (read the other way round, the whole of
        # `cleaning` could fall between the two reads).
        done = tasks.get(d["task_id"])["status"] in ("done", "failed")
        state = nodes.get(nid)["provision_state"]
        if not seen or seen[-1] != state:
            seen.append(state)
        return done

    wait_until(ended, 180, "the delete task to end", interval=0.02)
    task = tasks.wait(d["task_id"], timeout=60)
    assert task["status"] == "done", task
    assert [e["step"] for e in task["events"]] == [
        "power-off",
        "volume",
        "unname",
        "clean",
    ]
    # active -> cleaning -> available, each a compare-and-set the state
    # table allows (active -> available is not: test_node_states.py), and
    # the `clean` step above is the move out of cleaning. `cleaning` lasts
    # while the clone is destroyed and the names taken back, which can be
    # shorter than one poll: the polls must see that order and no other
    # state, not necessarily every state.
    assert seen == [
        s for s in ("active", "cleaning", "available") if s in seen
    ], seen
    node = nodes.get(nid)
    assert (
        node["provision_state"],
        node["instance_id"],
        node["power_state"],
    ) == ("available", None, "off"), node
    assert seen[-1] in ("cleaning", "available"), seen
    assert client.instances.get(inst["id"])["status"] == "terminated"
    assert server.state() == "shut off"
    assert ipmi_power(root, port) == "Chassis Power is off"
    assert vol_id not in _targets(tgt)
    assert not [n for n in _zfs_names() if vol_id in n]
    assert not _boot_scripts(root, server.mac)
    assert nodes.get(bad["id"])["provision_state"] == "error"

    assert not dep.logs_with_errors()
    for name in os.listdir(dep.log_dir):
        with open(os.path.join(dep.log_dir, name), errors="replace") as f:
            assert BMC_PASSWORD not in f.read(), name


def _delete_quietly(client, iid):
    """Teardown after a failure: the instance (and so its clone, export and
    names) goes through the API while the agents still run."""
    inst = client.instances.get(iid)
    if inst["status"] not in ("terminated", "deleted"):
        client.tasks.wait(client.instances.delete(iid)["task_id"], timeout=180)


def _targets(control_port) -> str:
    return runner.run(
        [
            "tgtadm",
            "-C",
            str(control_port),
            "--lld",
            "iscsi",
            "--op",
            "show",
            "--mode",
            "target",
        ],
        timeout=30,
    ).stdout


def _zfs_names() -> list[str]:
    return runner.run(
        ["zfs", "list", "-H", "-o", "name"], timeout=60
    ).stdout.split()


def _boot_scripts(root: str, mac: str) -> list[str]:
    return glob.glob(
        os.path.join(root, "nsa", "**", mac.replace(":", "-") + ".ipxe"),
        recursive=True,
    )
