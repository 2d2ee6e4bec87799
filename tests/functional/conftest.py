"""Functional tests: the real daemons as separate processes on real RabbitMQ
and MariaDB, driven over HTTP.

RabbitMQ and MariaDB are started if they are not running; if they cannot
be, every test here errors (never skips). Each deployment gets its own
vhost, database, API port and state directory, and is removed afterwards.
"""

import ipaddress
import json
import os
import random
import shutil
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from arame.deploy import infra, local
from arame.sdk import Client
from tests.helpers import daemon_logs
from tests.helpers.ports import free_port
from tests.helpers.subnets import free_subnet

# test_vm_libvirt.py imports wait_until from here.
from tests.helpers.waiting import wait_until  # noqa: F401

ADMIN_PASSWORD = "functional-admin-pw"


@pytest.fixture(scope="session")
def infrastructure():
    rabbit, mariadb = infra.RabbitMQ(), infra.MariaDB()
    rabbit.ensure_running()
    mariadb.ensure_running()
    return rabbit, mariadb


# Fast clocks so that liveness and deadlines show within a test's patience.
BASE_CONF = {
    "DEFAULT": {"report_interval": 1, "service_down_time": 4},
    "collector": {"reaper_interval": 1, "grace_period": 1},
}


class Deployment(local.LocalDeployment):
    def client(self) -> Client:
        c = Client(self.api_url, timeout=30)
        c.login("admin", self.admin_password)
        return c

    def logs_with_errors(self) -> dict[str, list[str]]:
        out = {}
        for name in os.listdir(self.log_dir):
            with open(os.path.join(self.log_dir, name), errors="replace") as f:
                bad = daemon_logs.errors(f.readlines())
            if bad:
                out[name] = bad
        return out


def merge(*confs):
    out: dict = {}
    for c in confs:
        for section, values in (c or {}).items():
            out.setdefault(section, {}).update(values)
    return out


@pytest.fixture
def make_deployment(infrastructure, tmp_path_factory):
    """Factory: make_deployment(conf=..., roles=...) -> a running deployment,
    torn down (processes stopped, vhost and database dropped) afterwards."""
    rabbit, mariadb = infrastructure
    made = []

    def _make(conf=None, roles=local.DEFAULT_ROLES, hypervisors=None):
        name = "ft_" + uuid.uuid4().hex[:8]
        dep = Deployment(
            name,
            str(tmp_path_factory.mktemp(name)),
            api_port=free_port(),
            admin_password=ADMIN_PASSWORD,
            conf=merge(BASE_CONF, conf),
            rabbit=rabbit,
            mariadb=mariadb,
        )
        made.append(dep)
        dep.prepare()
        for role in roles:
            dep.start(role)
        dep.wait_ready(
            90,
            hypervisors=(1 if "hva" in roles else 0)
            if hypervisors is None
            else hypervisors,
        )
        return dep

    yield _make
    for dep in made:
        dep.down(drop=True)


@pytest.fixture(scope="module")
def shared_deployment(infrastructure, tmp_path_factory):
    """One deployment for the tests of a module that do not disturb it."""
    rabbit, mariadb = infrastructure
    name = "ft_" + uuid.uuid4().hex[:8]
    dep = Deployment(
        name,
        str(tmp_path_factory.mktemp(name)),
        api_port=free_port(),
        admin_password=ADMIN_PASSWORD,
        conf=BASE_CONF,
        rabbit=rabbit,
        mariadb=mariadb,
    )
    try:
        dep.up(timeout=90)
        yield dep
    finally:
        dep.down(drop=True)


@pytest.fixture(scope="session")
def libvirt_lab():
    """libvirtd in the lab namespace (started if needed; an error, never a
    skip, when it cannot be)."""
    lv = infra.Libvirt()
    lv.ensure_running()
    _clear_leftovers()
    return lv


VM_ROOT = "/var/tmp/arame-ft"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def _clear_leftovers():
    """Guests, dnsmasqs, bridges and files of earlier runs that died before
    their teardown: each deployment root under VM_ROOT names the test
    process that owns it; anything under a root whose owner is gone (or
    whose directory is gone) is cleared."""
    live = []
    for name in os.listdir(VM_ROOT) if os.path.isdir(VM_ROOT) else ():
        try:
            with open(os.path.join(VM_ROOT, name, "owner.pid")) as f:
                if _alive(int(f.read())):
                    live.append(os.path.join(VM_ROOT, name) + "/")
                    continue
        except (OSError, ValueError):
            pass
        shutil.rmtree(os.path.join(VM_ROOT, name), ignore_errors=True)

    def stale(text: str) -> bool:
        return VM_ROOT + "/" in text and not any(r in text for r in live)

    # dnsmasqs of naming agents that died before stopping them
    for pid in subprocess.run(
        ["ip", "netns", "pids", infra.LAB_NETNS],
        capture_output=True,
        text=True,
    ).stdout.split():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if "dnsmasq" in cmdline and stale(cmdline):
            subprocess.run(["kill", pid], capture_output=True)
    infra.Libvirt.remove_guests(stale)
    infra.Libvirt().remove_networks(None)


@pytest.fixture(scope="module")
def vm_deployment(infrastructure, libvirt_lab, tmp_path_factory):
    """A deployment whose hypervisor agent runs real guests (libvirt, QEMU),
    with the test image in its image store."""
    yield from _vm_deployment(infrastructure, libvirt_lab, tmp_path_factory)


def _vm_deployment(
    infrastructure, libvirt_lab, tmp_path_factory, *, routers=False
):
    """With `routers`, also the L3 agent on real namespaces (routers'
    names start with the deployment's), and an outside namespace of the
    deployment's own, `<name>-out`, holding 203.0.113.1/24 at the far end
    of the external network `public`."""
    rabbit, mariadb = infrastructure
    name = "ft_" + uuid.uuid4().hex[:8]
    # qemu runs as an unprivileged user: its files live outside pytest's
    # private (0700) temporary tree.
    root = os.path.join(VM_ROOT, name)
    os.makedirs(root, mode=0o755)
    os.chmod(VM_ROOT, 0o755)
    with open(os.path.join(root, "owner.pid"), "w") as f:
        f.write(str(os.getpid()))
    conf = merge(
        BASE_CONF,
        {
            "DEFAULT": {"host": f"hv-{name[3:]}"},
            "hva": {"driver": "libvirt"},
            "libvirt": {
                "plumbing_netns": libvirt_lab.netns,
                "instances_path": os.path.join(root, "instances"),
                "image_store_path": os.path.join(root, "images"),
                "shutdown_timeout": 30,
                # The markers, not the kernel's PCIe enumeration: the
                # console API answers the last 128 KiB.
                "kernel_cmdline": "console=ttyS0 panic=-1 loglevel=4",
                "iscsi_initiator_address": infra.LAB_UNDERLAY[1].split("/")[0],
            },
            "hva_networking": {"underlay_device": infra.LAB_UNDERLAY[0]},
            # dnsmasq drops privileges and rereads its files: not under 0700.
            "nsa": {
                "driver": "dnsmasq",
                "netns": libvirt_lab.netns,
                "state_path": os.path.join(root, "nsa"),
            },
            # Root volumes: a pool of this deployment's own, its own tgtd with
            # the portal in the lab, where the guests' initiators are.
            "sta": {
                "backend": "zfs",
                "target": "tgt",
                "pool": f"ft{name[3:]}",
                "pool_size_gb": 20,
                "iscsi_address": infra.LAB_UNDERLAY[1].split("/")[0],
                "iscsi_port": random.randrange(3300, 3900),
                "tgt_control_port": random.randrange(1000, 30000),
                "import_dirs": os.path.join(root, "sta-import"),
            },
            "scheduler": {"agent_call_timeout": 120},
        },
    )
    roles = ["collector", "scheduler", "hva", "nsa", "sta", "api"]
    if routers:
        conf["l3"] = {
            "driver": "netns",
            "netns": libvirt_lab.netns,
            "namespace_prefix": f"{name}-",
            "physical_networks": f"public:fx{name[3:]}",
        }
        roles.append("l3")
    dep = Deployment(
        name,
        str(tmp_path_factory.mktemp(name)),
        api_port=free_port(),
        admin_password=ADMIN_PASSWORD,
        conf=conf,
        rabbit=rabbit,
        mariadb=mariadb,
        outside_netns=f"{name}-out",
        outside_dev=f"fo{name[3:]}",
    )
    try:
        dep.prepare()
        _own_default_subnet(dep, libvirt_lab.netns)
        for role in roles:
            dep.start(role)
        # The first start of an hva on a machine probes KVM (up to 20 s).
        dep.wait_ready(120, hypervisors=1)
        yield dep
    finally:
        dep.down(drop=True)
        shutil.rmtree(root, ignore_errors=True)


def _own_default_subnet(dep, netns: str) -> None:
    """Every deployment is seeded with `default` on 10.200.0.0/24, as
    tools/single-host is, and puts its bridges in the one lab namespace:
    the second bridge with that subnet in it had every DNS answer to its
    guests leave through the first (nsa now refuses it). This one's moves
    to a /24 nothing there uses, before any daemon reads it."""
    net = ipaddress.ip_network(free_subnet(netns))
    hosts = list(net.hosts())
    eng = dep.engine()
    try:
        with eng.begin() as db:
            db.execute(
                sa.text(
                    "UPDATE networks SET cidr = :cidr, gateway = :gw, "
                    "dhcp_address = :dhcp, dhcp_ranges = :ranges "
                    "WHERE name = 'default'"
                ),
                # As ipam.make_plan plans it: the gateway first, the
                # DHCP server last, the ranges between.
                {
                    "cidr": str(net),
                    "gw": str(hosts[0]),
                    "dhcp": str(hosts[-1]),
                    "ranges": json.dumps([[str(hosts[1]), str(hosts[-2])]]),
                },
            )
    finally:
        eng.dispose()


BOOT_TIMEOUT = 180  # a guest's boot: TCG on a loaded 2-core machine


@pytest.fixture(scope="module")
def vm_client(vm_deployment):
    c = vm_deployment.client()
    yield c
    c.close()


@pytest.fixture(scope="module")
def vm_image(vm_client):
    """The test image vm_deployment put in its store."""
    return next(
        i["id"] for i in vm_client.images.list() if i["name"] == "arame-test"
    )


def virsh(*args: str) -> str:
    return subprocess.run(
        ["virsh", "-c", "qemu:///system", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout


def wait_task(client, task_id, timeout=BOOT_TIMEOUT):
    task = client.tasks.wait(task_id, timeout=timeout)
    assert task["status"] == "done", task
    return task


def first_image(client) -> str:
    return client.images.list()[0]["id"]


# -- the multi-host lab (tools/lab): one for the session ----------------------
LAB_PASSWORD = "lab-admin-pw"
LAB_DOWN = "lab_down"  # the marker of the test that takes the lab down


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"{LAB_DOWN}: takes the shared lab down; runs after every other "
        "test that uses it",
    )


def pytest_collection_modifyitems(config, items):
    """A test marked lab_down moves to just after the last other test that
    uses the shared lab (test_lab.py's down test would otherwise run
    before test_lab_evacuation.py's, on a lab it had taken down)."""
    uses = [i for i in items if "arame_lab" in getattr(i, "fixturenames", ())]
    downs = [i for i in uses if i.get_closest_marker(LAB_DOWN)]
    rest = [i for i in uses if i not in downs]
    if not downs or not rest:
        return
    for i in downs:
        items.remove(i)
    at = items.index(rest[-1]) + 1
    items[at:at] = downs


def tools_lab(*args: str, port: int) -> subprocess.CompletedProcess:
    repo = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    return subprocess.run(
        [os.path.join(repo, "tools", "lab"), *args, "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, ARAME_ADMIN_PASSWORD=LAB_PASSWORD),
        cwd=repo,
    )


@pytest.fixture(scope="session")
def arame_lab():
    """`tools/lab up --hosts 3 --storage zfs`: h1 the controller, storage
    (zfs-fuse, its own tgtd) and network node, h2 and h3 hypervisors.
    Shared by tests/functional/test_lab*.py (one `up` is ~30 s); taken
    down by the lab_down test, else at the end of the session."""
    from arame.deploy.lab import lab as lab_mod
    from arame.deploy.lab import topology

    if topology.lab_netns():
        pytest.fail(
            f"a lab is up already ({topology.lab_netns()}): tools/lab down"
        )
    port = free_port()
    up = tools_lab("up", "--hosts", "3", "--storage", "zfs", port=port)
    the_lab = lab_mod.Lab.existing(api_port=port, admin_password=LAB_PASSWORD)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield the_lab
    finally:
        # Whatever the tests did: nothing of the lab stays.
        tools_lab("down", port=port)


@pytest.fixture(scope="session")
def lab_client(arame_lab):
    """The lab's admin, logged in once for every test_lab*.py."""
    from arame.sdk import Client

    c = Client(arame_lab.api_url, timeout=30)
    c.login("admin", LAB_PASSWORD)
    yield c
    c.close()


def lab_console(client, iid) -> str:
    return client.instances.console(iid)["output"]
