"""VM boot: time from `POST /v1/instances` to the guest's "booted" marker,
against raw `virsh start` of an identical domain to the same marker.

    python3 bench/vm_boot.py                 # 5 runs each, then 4 and 8 at once
    python3 bench/vm_boot.py --runs 3 --batches 1,4

Both sides boot the test image (kernel + initramfs) with the same flavor
(1 vCPU, 512 MiB), the same domain XML (the driver's own generator: qcow2
overlay, config drive, console log, a NIC on the shared network's bridge)
and the same domain type (the driver's KVM probe decides; TCG on machines
where KVM hangs). The marker is the guest's first line from userspace,
before it asks for DHCP: the naming agent runs the fake driver here. The marker is read from
the console log file on disk for both, so polling costs the same. A batch of
N starts N guests at once and measures each one's time to its marker.

Run as root from the repository with Arame installed; RabbitMQ, MariaDB and
libvirtd (in the lab namespace) are started if needed. The deployment (its
own vhost, database, state under /var/tmp) is removed at the end.
"""

import argparse
import concurrent.futures
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arame.deploy import infra, local  # noqa: E402
from arame.sdk import Client  # noqa: E402

MARKER = b"ARAME-TEST-IMAGE booted"
VIRSH = ["virsh", "-c", "qemu:///system"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def wait_marker(path: str, t0: float, timeout: float, check=None) -> float:
    deadline = t0 + timeout
    polls = 0
    while time.monotonic() < deadline:
        polls += 1
        if check is not None and polls % 20 == 0:
            check()  # a build that failed will never print the marker
        try:
            with open(path, "rb") as f:
                if MARKER in f.read():
                    return time.monotonic() - t0
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no marker in {path} after {timeout}s")


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


class Arame:
    def __init__(self, root: str, lab: str):
        self.name = "bench_" + uuid.uuid4().hex[:8]
        self.root = os.path.join(root, self.name)
        os.makedirs(self.root, mode=0o755)
        self.instances = os.path.join(self.root, "instances")
        self.dep = local.LocalDeployment(
            self.name,
            tempfile.mkdtemp(prefix=f"arame-{self.name}-"),
            api_port=_free_port(),
            conf={
                "DEFAULT": {"host": f"hv-{self.name[6:]}"},
                "hva": {"driver": "libvirt"},
                "libvirt": {
                    "plumbing_netns": lab,
                    "instances_path": self.instances,
                    "image_store_path": os.path.join(self.root, "images"),
                },
                "hva_networking": {"underlay_device": infra.LAB_UNDERLAY[0]},
                # 8 guests at once plus the warm-up one on a 2-core host.
                "scheduler": {
                    "agent_call_timeout": 600,
                    "cpu_allocation_ratio": 8.0,
                },
            },
        )

    def up(self):
        self.dep.prepare()
        for role in ("collector", "scheduler", "hva", "nsa", "api"):
            self.dep.start(role)
        self.dep.wait_ready(180, hypervisors=1)
        self.client = Client(
            self.dep.api_url, token=self.dep.token(), timeout=60
        )
        self.image = next(
            i["id"]
            for i in self.client.images.list()
            if i["name"] == "arame-test"
        )
        self.virt_type = next(
            h["hypervisor_type"]
            for h in self.client.hosts.list()
            if h.get("hypervisor_type")
        )
        # The raw domains plug into the bridge Arame's guests use.
        self.bridge = next(
            n["id"]
            for n in self.client.networks.list()
            if n["name"] == "default"
        )

    def boot(self, n: int, timeout: float) -> tuple[list[float], list[str]]:
        def one(i):
            t0 = time.monotonic()
            inst = self.client.instances.create(
                name=f"b{i}-{uuid.uuid4().hex[:6]}",
                flavor="small",
                image=self.image,
            )
            path = os.path.join(self.instances, inst["id"], "console.log")

            def failed():
                t = self.client.tasks.get(inst["task_id"])
                if t["status"] == "failed":
                    raise RuntimeError(f"{inst['id']}: {t['error']}")

            return wait_marker(path, t0, timeout, check=failed), inst["id"]

        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            res = list(ex.map(one, range(n)))
        return [r[0] for r in res], [r[1] for r in res]

    def delete(self, iids):
        tasks = [self.client.instances.delete(i)["task_id"] for i in iids]
        for t in tasks:
            self.client.tasks.wait(t, timeout=300)

    def down(self):
        try:
            self.client.close()
        except AttributeError:
            pass
        self.dep.down(drop=True)
        shutil.rmtree(self.root, ignore_errors=True)


class Raw:
    """The same domain, defined and started with virsh alone."""

    def __init__(self, arame: Arame):
        self.arame = arame
        self.dir = os.path.join(arame.root, "raw")
        os.makedirs(self.dir, mode=0o755)
        self.n = 0

    def _xml(self, name: str) -> tuple[str, str]:
        from arame.agents.hva import configdrive
        from arame.agents.hva.drivers.libvirt import config, storage

        base = os.path.join(self.arame.instances, "_base", self.arame.image)
        image = {
            "kernel": os.path.join(base, "vmlinuz"),
            "initrd": os.path.join(base, "initrd"),
        }
        d = os.path.join(self.dir, name)
        os.makedirs(d, mode=0o755)
        root = storage.root_disk(d, image, 5)
        drive = os.path.join(d, "config.iso")
        iid = "i-" + uuid.uuid4().hex[:8]
        configdrive.build(
            drive,
            instance_id=iid,
            hostname=name,
            public_keys=[],
            user_data=None,
        )
        nic = config.Nic(
            mac="52:54:01:"
            + ":".join(f"{b:02x}" for b in uuid.uuid4().bytes[:3]),
            bridge=self.arame.bridge,
            tap=f"tr{uuid.uuid4().hex[:8]}",
            mtu=1450,
        )
        g = config.Guest(
            name=name,
            uuid=str(uuid.uuid4()),
            virt_type=self.arame.virt_type,
            nics=(nic,),
            vcpus=1,
            memory_mb=512,
            machine="q35",
            console_log=os.path.join(d, "console.log"),
            disks=(
                root,
                config.FileDisk(
                    drive, "vdb", format="raw", readonly=True, serial="cidata"
                ),
            ),
            kernel=image["kernel"],
            initrd=image["initrd"],
            cmdline="console=ttyS0 panic=-1",
        )
        path = os.path.join(d, "domain.xml")
        with open(path, "w") as f:
            f.write(config.domain_xml(g))
        return path, os.path.join(d, "console.log")

    def boot(self, n: int, timeout: float) -> tuple[list[float], list[str]]:
        prepared = []
        for _ in range(n):
            self.n += 1
            name = f"rawbench{self.n}-{uuid.uuid4().hex[:6]}"
            xml, console = self._xml(name)
            subprocess.run(
                VIRSH + ["define", xml], check=True, capture_output=True
            )
            prepared.append((name, console))

        def one(item):
            name, console = item
            t0 = time.monotonic()
            subprocess.run(
                VIRSH + ["start", name], check=True, capture_output=True
            )
            return wait_marker(console, t0, timeout)

        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            times = list(ex.map(one, prepared))
        return times, [p[0] for p in prepared]

    def delete(self, names):
        for name in names:
            subprocess.run(VIRSH + ["destroy", name], capture_output=True)
            subprocess.run(VIRSH + ["undefine", name], capture_output=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--runs", type=int, default=5)
    p.add_argument(
        "--batches",
        default="4,8",
        help="concurrent boots to measure after the single runs",
    )
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--root", default="/var/tmp/arame-bench")
    args = p.parse_args()

    # Stopped with SIGTERM, still tear the deployment and its guests down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    infra.RabbitMQ().ensure_running()
    infra.MariaDB().ensure_running()
    lab = infra.Libvirt()
    lab.ensure_running()
    os.makedirs(args.root, mode=0o755, exist_ok=True)
    arame = Arame(args.root, lab.netns)
    results = {}
    try:
        log("starting the deployment...")
        arame.up()
        # Warm-up: the image cache fills and the KVM probe answers once.
        t, iids = arame.boot(1, args.timeout)
        log(f"warm-up boot {t[0]:.2f}s")
        raw = Raw(arame)
        a_single, r_single = [], []
        for i in range(args.runs):
            t, names = raw.boot(1, args.timeout)
            r_single += t
            raw.delete(names)
            t, iids2 = arame.boot(1, args.timeout)
            a_single += t
            arame.delete(iids2)
            log(
                f"run {i + 1}: raw {r_single[-1]:.2f}s  arame {a_single[-1]:.2f}s"
            )
        results["1"] = (summary(r_single), summary(a_single))
        for n in [int(x) for x in args.batches.split(",") if x]:
            t, names = raw.boot(n, args.timeout)
            raw.delete(names)
            rs = summary(t)
            t, iids2 = arame.boot(n, args.timeout)
            arame.delete(iids2)
            results[str(n)] = (rs, summary(t))
            log(
                f"{n} at once: raw median {rs['median']:.2f}s  arame "
                f"median {results[str(n)][1]['median']:.2f}s"
            )
        arame.delete(iids)
    finally:
        arame.down()

    print(
        f"VM boot to the guest's booted marker (domain type "
        f"{arame.virt_type}; {args.runs} single runs)"
    )
    for n, (rs, as_) in results.items():
        print(f"  {n} at once:")
        print(f"    raw virsh start : {fmt(rs)}")
        print(f"    Arame API       : {fmt(as_)}")
        print(
            f"    ratio (median)  : {as_['median'] / rs['median']:.2f}x raw"
            f"   (max: {as_['max'] / rs['max']:.2f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
