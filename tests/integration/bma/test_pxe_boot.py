"""A bare-metal node boots its iSCSI root volume through PXE and iPXE
sanboot, every piece real:

- sta: zfs-fuse, a pool `<run>` on a sparse file, the test image's raw
  disk imported and cloned into a volume, exported by our own tgtd whose
  portal is on the test bridge (CHAP, ACL to the node's address);
- nsa: the real dnsmasq driver serving a per-run bridge in the lab
  namespace (where libvirtd puts every tap), with a reservation for the
  node's MAC carrying `sanboot_script(...)`; dnsmasq hands iPXE
  `boot.ipxe`, which chains the MAC's script over TFTP;
- the node: a libvirt domain `type='qemu'` with no disk, its NIC on the
  bridge, its serial console in a file, behind our own vbmcd; bma's
  ipmitool driver sets boot device PXE and powers it on.

Proof: the console shows the test image's markers (booted from the LUN,
then its DHCP address from our dnsmasq); with a wrong CHAP secret it shows
iPXE's failure and no marker. Everything made here is removed at the end
(domain, vbmc entry, vbmcd, dnsmasq and bridge, tgtd and its targets, the
pool), also after a failure.
"""

import contextlib
import ipaddress
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

from arame.agents.bma.drivers.ipmitool import IPMIHardware
from arame.agents.bma.manager import BMAManager
from arame.agents.nsa.drivers import dnsmasq_config
from arame.agents.nsa.drivers.dnsmasq import DnsmasqDriver
from arame.agents.nsa.manager import NSAManager
from arame.agents.sta.backends.zfs import ZFSBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.tgt import TgtTarget
from arame.common import pxe, runner
from arame.common.conf import CONF
from arame.common.conf import nsa as nsa_conf
from arame.deploy import infra, testimage
from arame.deploy.pxe_node import PxeNode
from arame.deploy.storage import Pool, Tgtd, ZfsFuse
from tests.helpers.ports import udp_port
from tests.helpers.vbmc import Vbmcd
from tests.helpers.waiting import wait_until

from .conftest import PASSWORD, TIMING, USERNAME, Lab, settings

RUN = "px" + uuid.uuid4().hex[:5]
NETNS = infra.LAB_NETNS
BRIDGE = f"{RUN}br"
NETWORK_ID = "nw-" + uuid.uuid4().hex[:8]
VOLUME_ID = "vol-" + uuid.uuid4().hex[:8]
IMAGE_ID = "img-" + uuid.uuid4().hex[:8]
NODE_MAC = "52:54:00:" + ":".join(
    f"{random.randrange(256):02x}" for _ in range(3)
)
CHAP_USER = f"u{RUN}"
CHAP_SECRET = "S-" + uuid.uuid4().hex[:20]
MARKER = testimage.MARKER
# TCG on two cores shared with other suites: PXE + iSCSI + kernel.
BOOT_DEADLINE = 240.0


def lab_addresses() -> set[ipaddress.IPv4Network]:
    out = runner.run(["ip", "-o", "-4", "addr"], netns=NETNS).stdout
    return {
        ipaddress.ip_interface(line.split()[3]).network
        for line in out.splitlines()
    }


def pick_subnet() -> ipaddress.IPv4Network:
    """A /24 nothing in the lab namespace uses."""
    used = lab_addresses()
    for _ in range(100):
        net = ipaddress.IPv4Network(
            f"10.{random.randrange(150, 200)}.{random.randrange(256)}.0/24"
        )
        if not any(net.overlaps(u) for u in used):
            return net
    raise AssertionError("no free /24 in the lab namespace")


class Node(PxeNode):
    """The node's libvirt domain (disk first: the BMC switches it to PXE)
    and its serial console log."""

    def __init__(self, name: str, workdir: str):
        super().__init__(
            name,
            BRIDGE,
            NODE_MAC,
            os.path.join(workdir, "console.log"),
            os.path.join(workdir, f"{name}.xml"),
            boot="hd",
        )

    def markers(self) -> list[str]:
        return [
            line.strip()[len(MARKER) + 1 :]
            for line in self.console().splitlines()
            if line.startswith(MARKER + " ")
        ]


class Rig(contextlib.ExitStack):
    """The pieces of one run, undone last first at close (every step even
    if one fails)."""


@pytest.fixture(scope="module")
def rig():
    """Everything above, set up once for the module's boots."""
    infra.Libvirt().ensure_running()
    nsa_conf.register(CONF)
    # dnsmasq drops its privileges and qemu runs as libvirt-qemu: both
    # read below here.
    workdir = tempfile.mkdtemp(prefix=f"arame-{RUN}-")
    os.chmod(workdir, 0o755)
    r = Rig()
    r.callback(shutil.rmtree, workdir, ignore_errors=True)
    try:
        _build(r, workdir)
        yield r
    finally:
        r.close()


def _build(r: Rig, workdir: str) -> None:
    t0 = time.monotonic()
    image = testimage.build(os.path.join(workdir, "image"))
    r.image = image
    disk = image["paths"]["disk.raw"]
    r.timings = {"image": time.monotonic() - t0}

    # -- the network: nsa's real driver, on a bridge in the lab ------------
    cidr = pick_subnet()
    hosts = list(cidr.hosts())
    r.server, r.node_ip = str(hosts[0]), str(hosts[49])
    r.network = {
        "id": NETWORK_ID,
        "cidr": str(cidr),
        "gateway": None,
        "dhcp_address": r.server,
        "dns_domain": f"{RUN}.test",
        "dhcp_ranges": [],
        "mtu": None,
        "bridge": BRIDGE,
    }
    r.driver = DnsmasqDriver(os.path.join(workdir, "nsa"), NETNS)
    r.nsa = NSAManager(r.driver)
    r.callback(r.driver.stop)
    r.callback(r.driver.remove_network, NETWORK_ID)
    r.nsa.ensure_network({}, r.network)

    # -- storage: the image cloned into a volume, exported on the bridge --
    zfs = ZfsFuse(workdir)
    zfs.ensure()
    r.callback(zfs.stop_if_unused)
    pool = Pool(RUN, workdir, size_gb=2)
    pool.create()
    r.callback(pool.destroy)
    r.tgtd = Tgtd(
        os.path.join(workdir, "tgtd.log"),
        address=r.server,
        netns=NETNS,
        port=3260,
    )
    r.tgtd.start()
    r.callback(r.tgtd.stop)
    backend = ZFSBackend(pool.name, "file", timeout=120)
    backend.init_host()
    target = TgtTarget(
        r.server,
        3260,
        "2025-01",
        f"org.arame.{RUN}",
        control_port=r.tgtd.control_port,
    )
    import_dir = os.path.dirname(disk)
    r.sta = STAManager(
        backend, target, max_volume_gb=4, import_dirs=[import_dir]
    )
    t0 = time.monotonic()
    meta = image["files"]["disk.raw"]
    r.sta.import_image({}, IMAGE_ID, disk, meta["sha256"], meta["size"])
    r.callback(r.sta.delete_image, {}, IMAGE_ID)
    r.sta.create_volume(
        {}, {"id": VOLUME_ID, "size_gb": 1, "image_id": IMAGE_ID}
    )
    r.callback(r.sta.delete_volume, {}, VOLUME_ID)
    r.callback(r.sta.unexport_volume, {}, VOLUME_ID, force=True)
    r.export = r.sta.export_volume(
        {}, VOLUME_ID, r.node_ip, CHAP_USER, CHAP_SECRET
    )
    r.timings["storage"] = time.monotonic() - t0

    # -- the node: a domain without a disk behind virtualbmc ---------------
    r.node = Node(f"arame-{RUN}", workdir)
    r.callback(r.node.remove)
    vbmcd = Vbmcd(workdir, USERNAME, PASSWORD)
    r.callback(vbmcd.stop)
    port = udp_port()
    vbmcd.serve(r.node.name, port)
    r.callback(vbmcd.unserve, r.node.name)
    r.bmc = Lab(r.node, port).node()
    r.bma = BMAManager(IPMIHardware(settings()), TIMING)
    # The domain goes off before its target and its bridge go (cleanups
    # run last first): a client whose target vanishes hangs.
    r.callback(r.node.force_off)


def script(r: Rig, secret: str = CHAP_SECRET) -> str:
    return pxe.sanboot_script(
        portal=r.export["portal"],
        iqn=r.export["iqn"],
        lun=r.export["lun"],
        chap_user=CHAP_USER,
        chap_secret=secret,
    )


def boot(r: Rig) -> float:
    """Boot device PXE and power on over IPMI; returns the start time."""
    r.bma.power_off({}, r.bmc)
    assert r.bma.set_boot_device({}, r.bmc, "pxe") == {
        "boot_device": "pxe",
        "persistent": False,
    }
    t0 = time.monotonic()
    assert r.bma.power_on({}, r.bmc)["power_state"] == "on"
    return t0


def wait_console(r: Rig, predicate, what: str, timeout=BOOT_DEADLINE):
    try:
        return wait_until(
            lambda: predicate(r.node.console()), timeout, what, interval=0.2
        )
    except AssertionError:
        raise AssertionError(
            f"{what}: not on the console within {timeout:g} s\nconsole:\n"
            f"{r.node.console()[-3000:]}\ndnsmasq log:\n"
            f"{_tail(r.driver, 'log')}"
        ) from None


def _tail(driver, what: str) -> str:
    paths = dnsmasq_config.Paths(os.path.join(driver.state_path, NETWORK_ID))
    try:
        with open(getattr(paths, what), errors="replace") as f:
            return f.read()[-2000:]
    except OSError as e:
        return str(e)


def test_node_sanboots_its_volume_through_pxe(rig):
    r = rig
    r.nsa.add_reservation(
        {}, NETWORK_ID, NODE_MAC, r.node_ip, "node1", boot_script=script(r)
    )
    st = r.driver.network_status(NETWORK_ID)
    assert st["pxe"] is True and st["running"]
    tftp = os.path.join(r.driver.state_path, NETWORK_ID, "tftp")
    with open(os.path.join(tftp, NODE_MAC.replace(":", "-") + ".ipxe")) as f:
        assert f.read() == script(r)

    t0 = boot(r)
    # iPXE asked for its script (it got no ~13 s wait for an IPv6 router
    # advertisement: dnsmasq sends one).
    script_name = NODE_MAC.replace(":", "-") + ".ipxe"
    wait_until(
        lambda: f"{script_name} to {r.node_ip}" in _tail(r.driver, "log"),
        120,
        f"{script_name} fetched",
        interval=0.2,
    )
    fetched = time.monotonic() - t0
    wait_console(r, lambda c: f"{MARKER} booted" in c, "the boot marker")
    booted = time.monotonic() - t0
    assert r.bma.get_power_state({}, r.bmc) == "on"
    assert r.node.state() == "running"
    # The image's own DHCP client gets the reserved address from nsa.
    wait_console(
        r,
        lambda c: f"{MARKER} ip={r.node_ip}/" in c,
        "the DHCP marker",
        timeout=60,
    )
    print(
        f"\n{RUN}: image {r.timings['image']:.1f}s, storage "
        f"{r.timings['storage']:.1f}s, power on -> script fetched "
        f"{fetched:.1f}s, -> booted {booted:.1f}s, "
        f"-> ip {time.monotonic() - t0:.1f}s"
    )
    # The LUN held the session: tgtd saw the node's initiator log in.
    shown = r.tgtd.adm("--op", "show", "--mode", "target")
    assert f"IP Address: {r.node_ip}" in shown, shown

    assert r.bma.power_off({}, r.bmc)["power_state"] == "off"
    assert r.node.state() == "shut off"
    assert r.bma.get_power_state({}, r.bmc) == "off"


def test_wrong_chap_secret_fails_the_boot(rig):
    r = rig
    r.nsa.add_reservation(
        {}, NETWORK_ID, NODE_MAC, r.node_ip, "node1", boot_script=script(r)
    )
    pid = r.driver.network_status(NETWORK_ID)["pid"]
    bad = script(r, secret="Wrong-" + uuid.uuid4().hex[:12])
    # Only the script changes: no restart, no reload of dnsmasq.
    r.nsa.add_reservation(
        {}, NETWORK_ID, NODE_MAC, r.node_ip, "node1", boot_script=bad
    )
    assert r.driver.network_status(NETWORK_ID)["pid"] == pid
    boot(r)
    wait_console(r, lambda c: "Arame: sanboot of" in c, "iPXE's failure")
    console = r.node.console()
    assert f"{MARKER} booted" not in console
    said = console[max(0, console.find("Arame: sanboot of") - 300) :]
    print(f"\n{RUN}: wrong CHAP secret, iPXE says: {said[:500]!r}")
    assert r.bma.power_off({}, r.bmc)["power_state"] == "off"


@pytest.fixture
def web(rig):
    """A web server on the bridge, in the lab, serving the test image's
    kernel and initramfs (how a `kernel` image reaches the node)."""
    r = rig
    port = 8000 + random.randrange(1000)
    out = os.path.join(os.path.dirname(r.node.log), "http.log")
    with open(out, "wb") as f:
        proc = subprocess.Popen(
            runner.in_netns(
                [
                    sys.executable,
                    "-u",
                    "-m",
                    "http.server",
                    "--bind",
                    r.server,
                    "--directory",
                    r.image["output_dir"],
                    str(port),
                ],
                NETNS,
            ),
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def serving():
            assert proc.poll() is None, "http.server exited"
            with open(out, errors="replace") as f:
                return "Serving HTTP" in f.read()

        wait_until(serving, 30, "the HTTP server")
        yield f"http://{r.server}:{port}", out
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_node_boots_a_kernel_image_over_http(rig, web):
    r = rig
    base, log = web
    kernel = pxe.kernel_script(
        kernel_url=f"{base}/vmlinuz",
        initrd_url=f"{base}/initrd.img",
        cmdline="console=ttyS0 panic=-1",
    )
    r.nsa.add_reservation(
        {}, NETWORK_ID, NODE_MAC, r.node_ip, "node1", boot_script=kernel
    )
    t0 = boot(r)
    wait_console(r, lambda c: f"{MARKER} booted" in c, "the boot marker")
    booted = time.monotonic() - t0
    wait_console(
        r,
        lambda c: f"{MARKER} ip={r.node_ip}/" in c,
        "the DHCP marker",
        timeout=60,
    )
    with open(log) as f:
        fetched = f.read()
    assert '"GET /vmlinuz HTTP/1.1" 200' in fetched, fetched
    assert '"GET /initrd.img HTTP/1.1" 200' in fetched, fetched
    print(f"\n{RUN}: kernel image, power on -> booted {booted:.1f}s")
    assert r.bma.power_off({}, r.bmc)["power_state"] == "off"


def test_reservation_removed_takes_its_script(rig):
    r = rig
    r.nsa.add_reservation(
        {}, NETWORK_ID, NODE_MAC, r.node_ip, "node1", boot_script=script(r)
    )
    tftp = os.path.join(r.driver.state_path, NETWORK_ID, "tftp")
    assert NODE_MAC.replace(":", "-") + ".ipxe" in os.listdir(tftp)
    r.nsa.remove_reservation({}, NETWORK_ID, NODE_MAC)
    assert sorted(os.listdir(tftp)) in (
        ["boot.ipxe"],
        ["boot.ipxe", "undionly.kpxe"],
    )
    r.driver.flush()
    assert r.driver.network_status(NETWORK_ID)["reservations"] == 0
