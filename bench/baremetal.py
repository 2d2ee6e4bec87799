"""Bare-metal boot: time from `POST /v1/instances` (a `bm` flavor) to the
node's "booted" marker on its serial console, against raw IPMI (ipmitool
`chassis bootdev pxe` + `power on`) of the same node to the same marker,
with the same nsa/sta setup in place.

    python3 bench/baremetal.py                  # 3 single runs, then 4 at once
    python3 bench/baremetal.py --runs 1 --batches 4

The nodes are libvirt domains `type='qemu'` without a disk, network boot
first, behind our own vbmcd on loopback; the deployment runs the real
agents: bma (ipmitool driver), sta (zfs-fuse + its own tgtd), nsa (dnsmasq
in the lab namespace) and a fake hva. Each node PXE-boots iPXE, which
sanboots the node's root volume (a ZFS clone of the test disk image) over
iSCSI.

A round of N: N instances are asked for at once, each timed from its POST
to the marker on the console of the node it got. Then, with those
instances still active (their exports and their MAC's boot scripts in
place), the same N nodes are powered off and booted again at once with
ipmitool alone, each timed from its `chassis bootdev pxe` to the marker.
Then the instances are deleted. The marker is looked for past the end the
console log had before the power on, polled the same way for both.

Run as root from the repository with Arame installed; RabbitMQ, MariaDB
and libvirtd (in the lab namespace) are started if needed. Everything made
here (deployment, domains, vbmcd, the network's bridge, state under
--root) is removed at the end, also on SIGTERM. Records nothing by itself.
"""

import argparse
import concurrent.futures
import ipaddress
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arame.common import runner, waiting
from arame.deploy import infra, local, storage, testimage
from arame.deploy.pxe_node import LIBVIRT_URI, PxeNode, virsh
from arame.sdk import Client

MARKER = f"{testimage.MARKER} booted".encode()
IPXE = b"iPXE"
# Set on SIGTERM: the waiting threads give up, the tear-down runs.
STOP = threading.Event()
BMC_USER = "admin"
BMC_PASSWORD = "Bmc-" + uuid.uuid4().hex[:12]
FLAVOR = {
    "name": "bm.tiny",
    "provider": "bm",
    "vcpus": 1,
    "memory_mb": 256,
    "disk_gb": 1,
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(name: str) -> str:
    path = os.path.join(os.path.dirname(sys.executable), name)
    found = path if os.access(path, os.X_OK) else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not installed (pip install virtualbmc)")
    return found


def pick_subnet() -> str:
    out = runner.run(["ip", "-o", "-4", "addr"], netns=infra.LAB_NETNS).stdout
    used = {
        ipaddress.ip_interface(line.split()[3]).network
        for line in out.splitlines()
    }
    for _ in range(100):
        net = ipaddress.IPv4Network(
            f"10.{random.randrange(150, 200)}.{random.randrange(256)}.0/24"
        )
        if not any(net.overlaps(u) for u in used):
            return str(net)
    raise RuntimeError("no free /24 in the lab namespace")


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
    }


def fmt(s: dict) -> str:
    return (
        f"min {s['min']:.2f}s  median {s['median']:.2f}s  "
        f"max {s['max']:.2f}s  (n={s['n']})"
    )


class Node(PxeNode):
    """A domain behind a vbmc entry; its console log is the marker's."""

    def __init__(
        self, root: str, run: str, i: int, bridge: str, bmc_port: int
    ):
        name = f"arame-{run}-n{i}"
        super().__init__(
            name,
            bridge,
            "52:54:00:" + ":".join(f"{b:02x}" for b in os.urandom(3)),
            os.path.join(root, f"{name}.console.log"),
            os.path.join(root, f"{name}.xml"),
        )
        self.port = bmc_port
        self.id: str | None = None

    def clear_console(self) -> None:
        """Empty the console log of a node that is off: the next boot's
        marker is then the only one in it."""
        if os.path.exists(self.log):
            os.truncate(self.log, 0)

    def wait_marker(
        self, t0: float, timeout: float, phases: dict | None = None
    ) -> float:
        """Seconds from t0 to the marker; `phases` gets the time iPXE
        first spoke (the control plane + power on part of the figure)."""
        deadline = t0 + timeout
        while time.monotonic() < deadline and not STOP.is_set():
            try:
                with open(self.log, "rb") as f:
                    data = f.read()
                if (
                    phases is not None
                    and "ipxe" not in phases
                    and IPXE in data
                ):
                    phases["ipxe"] = time.monotonic() - t0
                if MARKER in data:
                    return time.monotonic() - t0
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise TimeoutError(
            f"no marker on {self.name}'s console after {timeout}s"
        )

    def remove(self) -> None:
        virsh("destroy", self.name, ok_codes=(0, 1))
        virsh("undefine", self.name, ok_codes=(0, 1))


class Lab:
    """The deployment, a network of its own, N nodes behind our vbmcd."""

    def __init__(self, root: str, nodes: int, keep_state: bool = False):
        self.name = "bench_" + uuid.uuid4().hex[:8]
        self.run = self.name[6:]
        self.root = os.path.join(root, self.name)
        os.makedirs(self.root, mode=0o755)
        self.n_nodes = nodes
        self.keep_state = keep_state
        self.nodes: list[Node] = []
        self.network_id: str | None = None
        self.vbmcd: subprocess.Popen | None = None
        self.client: Client | None = None
        self.pwfile = os.path.join(self.root, "ipmi-pw")
        underlay = infra.LAB_UNDERLAY[1].split("/")[0]
        self.dep = local.LocalDeployment(
            self.name,
            tempfile.mkdtemp(prefix=f"arame-{self.name}-"),
            api_port=free_port(),
            conf={
                "bma": {
                    "driver": "ipmitool",
                    "password_dir": os.path.join(self.root, "bma"),
                },
                "nsa": {
                    "driver": "dnsmasq",
                    "netns": infra.LAB_NETNS,
                    "state_path": os.path.join(self.root, "nsa"),
                },
                "sta": {
                    "backend": "zfs",
                    "target": "tgt",
                    "pool": f"bench{self.run}",
                    "pool_size_gb": 20,
                    "iscsi_address": underlay,
                    "iscsi_port": random.randrange(3300, 3900),
                    "tgt_control_port": random.randrange(1000, 30000),
                    "import_dirs": os.path.join(self.root, "sta-import"),
                },
                "libvirt": {
                    "image_store_path": os.path.join(self.root, "images")
                },
                "scheduler": {"agent_call_timeout": 300},
            },
        )

    # -- set-up -------------------------------------------------------------
    def up(self) -> None:
        os.makedirs(os.path.join(self.root, "bma"), mode=0o700)
        fd = os.open(self.pwfile, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(BMC_PASSWORD)
        self.dep.prepare()
        self.dep.manage("image", "install-test")
        for role in (
            "collector",
            "scheduler",
            "hva",
            "nsa",
            "sta",
            "bma",
            "api",
        ):
            self.dep.start(role)
        self.dep.wait_ready(180, hypervisors=1)
        self.client = Client(
            self.dep.api_url, token=self.dep.token(), timeout=60
        )
        self.network_id = self.client.networks.create(
            f"metal-{self.run}", pick_subnet(), f"{self.run}.bench"
        )["id"]
        self.client._session.post("/v1/flavors", json=FLAVOR)
        self.image = next(
            i["id"]
            for i in self.client.images.list()
            if i["name"] == "arame-test-disk"
        )
        self._start_vbmcd()
        for i in range(self.n_nodes):
            node = Node(
                self.root,
                self.run,
                i + 1,
                self.network_id,
                free_port(socket.SOCK_DGRAM),
            )
            self.nodes.append(node)
            self._vbmc(
                "add",
                node.name,
                "--address",
                "127.0.0.1",
                "--port",
                str(node.port),
                "--username",
                BMC_USER,
                "--password",
                BMC_PASSWORD,
                "--libvirt-uri",
                LIBVIRT_URI,
            )
            self._vbmc("start", node.name)
        bm = self.client.baremetal_nodes
        for node in self.nodes:
            node.id = bm.create(
                node.name,
                bmc_address="127.0.0.1",
                bmc_port=node.port,
                bmc_username=BMC_USER,
                bmc_password=BMC_PASSWORD,
                macs=[node.mac],
                cpus=1,
                memory_mb=256,
                disk_gb=1,
            )["id"]
        for action in (bm.manage, bm.provide):
            for t in [action(n.id)["task_id"] for n in self.nodes]:
                self.client.tasks.wait(t, timeout=300)

    def _start_vbmcd(self) -> None:
        d = os.path.join(self.root, "vbmc")
        os.makedirs(os.path.join(d, "conf.d"))
        conf = os.path.join(d, "virtualbmc.conf")
        with open(conf, "w") as f:
            f.write(
                f"[default]\nconfig_dir = {d}/conf.d\n"
                f"pid_file = {d}/vbmcd.pid\nserver_port = {free_port()}\n"
                f"[log]\nlogfile = {d}/vbmcd.log\n"
            )
        self.vbmc_env = dict(os.environ, VIRTUALBMC_CONFIG=conf)
        self.vbmcd = subprocess.Popen(
            [tool("vbmcd"), "--foreground"],
            env=self.vbmc_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        waiting.wait_for(
            lambda: self._vbmc("list", check=False).returncode == 0,
            30,
            "vbmcd to answer",
        )

    def _vbmc(self, *args, check=True):
        return subprocess.run(
            [tool("vbmc"), "--no-daemon", *args],
            env=self.vbmc_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    # -- the two sides --------------------------------------------------------
    def arame_boot(self, n: int, timeout: float) -> tuple[list, list]:
        """n instances at once; ([(to marker, to iPXE)], instance ids)."""
        c = self.client
        by_id = {node.id: node for node in self.nodes}
        for node in self.nodes:  # all off: available
            node.clear_console()

        def one(i):
            t0 = time.monotonic()
            inst = c.instances.create(
                name=f"m{i}-{uuid.uuid4().hex[:6]}",
                flavor=FLAVOR["name"],
                image=self.image,
                network=self.network_id,
            )
            c.tasks.wait(inst["task_id"], timeout=timeout)
            node = by_id[self.node_of(inst["id"])]
            phases = {}
            t = node.wait_marker(t0, timeout, phases)
            return (t, phases.get("ipxe", t)), inst["id"]

        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            res = list(ex.map(one, range(n)))
        return [r[0] for r in res], [r[1] for r in res]

    def ipmi(self, node: Node, *args: str) -> str:
        return runner.run(
            [
                "ipmitool",
                "-I",
                "lanplus",
                "-H",
                "127.0.0.1",
                "-p",
                str(node.port),
                "-U",
                BMC_USER,
                "-f",
                self.pwfile,
                *args,
            ],
            timeout=60,
        ).stdout

    def raw_boot(self, nodes: list[Node], timeout: float) -> list:
        """The same nodes, off, then PXE + power on with ipmitool alone."""
        for node in nodes:
            self.ipmi(node, "power", "off")
        waiting.wait_for(
            lambda: all(
                "off" in self.ipmi(n, "power", "status") for n in nodes
            ),
            60,
            "the nodes to be off",
        )

        for node in nodes:
            node.clear_console()

        def one(node):
            t0 = time.monotonic()
            self.ipmi(node, "chassis", "bootdev", "pxe")
            self.ipmi(node, "power", "on")
            phases = {}
            t = node.wait_marker(t0, timeout, phases)
            return t, phases.get("ipxe", t)

        with concurrent.futures.ThreadPoolExecutor(len(nodes)) as ex:
            return list(ex.map(one, nodes))

    def node_of(self, iid: str) -> str:
        return next(
            n["id"]
            for n in self.client.baremetal_nodes.list()
            if n["instance_id"] == iid
        )

    def nodes_of(self, iids: list[str]) -> list[Node]:
        by_id = {node.id: node for node in self.nodes}
        return [by_id[self.node_of(i)] for i in iids]

    def delete(self, iids: list[str]) -> None:
        tasks = [self.client.instances.delete(i)["task_id"] for i in iids]
        for t in tasks:
            self.client.tasks.wait(t, timeout=300)

    # -- tear-down --------------------------------------------------------------
    def down(self) -> None:
        steps = []
        if self.client is not None:
            steps.append(self._delete_all)
        for node in self.nodes:
            steps += [
                lambda n=node: self._vbmc("stop", n.name, check=False),
                lambda n=node: self._vbmc("delete", n.name, check=False),
                node.remove,
            ]
        steps += [
            self._stop_vbmcd,
            lambda: self.dep.down(drop=True),
            self._drop_pool,
        ]
        if self.network_id is not None:
            # nsa leaves the bridge when it stops (a fake hva takes nothing).
            steps.append(
                lambda: infra.Libvirt().remove_networks({self.network_id})
            )
        if not self.keep_state:
            steps += [
                lambda: shutil.rmtree(self.root, ignore_errors=True),
                lambda: shutil.rmtree(self.dep.state_dir, ignore_errors=True),
            ]
        for step in steps:
            try:
                step()
            except Exception as e:  # noqa: BLE001  (tear the rest down too)
                log(f"teardown: {e}")

    def _drop_pool(self) -> None:
        # down() skips the pool when one `zpool list` fails (seen once).
        pool = self.dep.conf["sta"]["pool"]
        if pool in storage.ZfsFuse.pools():
            log(f"teardown: pool {pool} survived the deployment's down()")
            storage.Pool(pool, self.dep.state_dir).destroy()

    def _delete_all(self) -> None:
        live = [
            i["id"]
            for i in self.client.instances.list()
            if i["status"] not in ("terminated", "deleted")
        ]
        if live:
            self.delete(live)
        self.client.close()

    def _stop_vbmcd(self) -> None:
        if self.vbmcd is not None and self.vbmcd.poll() is None:
            self.vbmcd.send_signal(signal.SIGTERM)
            try:
                self.vbmcd.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.vbmcd.pid, signal.SIGKILL)
                self.vbmcd.wait(5)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--runs",
        type=int,
        default=3,
        help="rounds of one node (and of each batch)",
    )
    p.add_argument(
        "--batches",
        default="4",
        help="nodes booted at once after the single rounds",
    )
    p.add_argument("--batch-runs", type=int, default=1)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--root", default="/var/tmp/arame-bench")
    p.add_argument(
        "--keep-state",
        action="store_true",
        help="keep the state dirs (config, logs, consoles, vbmcd's log)",
    )
    args = p.parse_args()
    batches = [int(x) for x in args.batches.split(",") if x]

    # Stopped with SIGTERM, still tear the deployment and the nodes down.
    def stop(*_):
        STOP.set()
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop)
    infra.RabbitMQ().ensure_running()
    infra.MariaDB().ensure_running()
    infra.Libvirt().ensure_running()
    os.makedirs(args.root, mode=0o755, exist_ok=True)
    os.chmod(args.root, 0o755)
    lab = Lab(args.root, max([1] + batches), args.keep_state)
    results = {}
    try:
        log("starting the deployment and the nodes...")
        t0 = time.monotonic()
        lab.up()
        log(f"ready in {time.monotonic() - t0:.1f}s; warm-up boot")
        t, iids = lab.arame_boot(1, args.timeout)
        lab.delete(iids)
        log(f"warm-up {t[0][0]:.2f}s")
        for n, runs in [(1, args.runs)] + [
            (b, args.batch_runs) for b in batches
        ]:
            a_times, r_times = [], []
            for i in range(runs):
                t, iids = lab.arame_boot(n, args.timeout)
                a_times += t
                r = lab.raw_boot(lab.nodes_of(iids), args.timeout)
                r_times += r
                lab.delete(iids)
                log(
                    f"{n} at once, run {i + 1}: arame "
                    f"{' '.join(f'{x:.2f}/{y:.2f}' for x, y in t)}s  raw "
                    f"{' '.join(f'{x:.2f}/{y:.2f}' for x, y in r)}s "
                    f"(marker/iPXE)"
                )
            results[n] = tuple(
                (summary([x for x, _ in v]), summary([y for _, y in v]))
                for v in (r_times, a_times)
            )
    finally:
        lab.down()

    print(
        "Bare-metal boot to the node's booted marker (PXE -> iPXE sanboot "
        "of an iSCSI clone; domains type qemu behind virtualbmc)"
    )
    for n, ((rs, ri), (as_, ai)) in results.items():
        print(f"  {n} at once:")
        print(f"    raw ipmitool bootdev+on : {fmt(rs)}")
        print(f"    Arame API               : {fmt(as_)}")
        print(
            f"    ratio (median)          : "
            f"{as_['median'] / rs['median']:.2f}x raw"
            f"   (max: {as_['max'] / rs['max']:.2f}x)"
        )
        print(
            f"    to iPXE's first line    : raw median {ri['median']:.2f}s"
            f"  Arame median {ai['median']:.2f}s"
        )
    if 1 in results:
        one = results[1][1][0]["median"]
        for n in results:
            if n != 1:
                print(
                    f"  Arame {n} at once / 1: median "
                    f"{results[n][1][0]['median'] / one:.2f}x  max "
                    f"{results[n][1][0]['max'] / one:.2f}x"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
