"""The bare-metal agent against a real BMC: virtualbmc in front of a
libvirt domain, reached by the real ipmitool on loopback.

Session: a tiny `type='qemu'` domain `arame-<run>` with no disk and no
network interface (powered on, it sits in its BIOS: no traffic leaves
it), and our own vbmcd (its own config directory, pid file and control
port) serving one IPMI endpoint for the domain on a free UDP port of
127.0.0.1. libvirtd is the machine's; it is neither started nor stopped
here. At the end the vbmc entry, vbmcd (by its PID) and the domain go,
also after a failure.

`sim_lab`: a second domain behind OpenIPMI's ipmi_sim (ipmisim.py), for
the IPMI 1.5 `lan` interface that virtualbmc lacks.
"""

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

from arame.agents.bma import checks, errors
from arame.agents.bma.drivers import ipmitool_transport
from arame.agents.bma.drivers.ipmitool import IPMIHardware
from arame.agents.bma.manager import BMAManager
from arame.agents.bma.power import Timing
from arame.common import runner

from .ipmisim import IpmiSim

RUN = "bmt" + uuid.uuid4().hex[:5]
LIBVIRT_URI = "qemu:///system"
USERNAME = "admin"
PASSWORD = "Pw-" + uuid.uuid4().hex[:12]
NODE_ID = "bm-" + uuid.uuid4().hex[:8]

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def wait_until(predicate, timeout: float, interval: float = 0.05):
    """predicate()'s first true value; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def free_port(kind=socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(name: str) -> str:
    """A console script of this Python's environment (vbmc, vbmcd)."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    found = path if os.access(path, os.X_OK) else shutil.which(name)
    assert found, f"{name} not installed (pip install virtualbmc)"
    return found


def virsh(*args, ok_codes=(0,)) -> str:
    return runner.run(["virsh", "-c", LIBVIRT_URI, *args], timeout=60,
                      ok_codes=ok_codes).stdout


class Domain:
    def __init__(self, name: str, workdir: str):
        self.name = name
        path = os.path.join(workdir, f"{name}.xml")
        with open(path, "w") as f:
            f.write(DOMAIN_XML.format(name=name))
        virsh("define", path)

    def state(self) -> str:
        return virsh("domstate", self.name).strip()

    def domid(self) -> str:
        return virsh("domid", self.name).strip()

    def boot_devs(self) -> list[str]:
        """The <os><boot dev=…> of the persistent definition."""
        import xml.etree.ElementTree as ET
        tree = ET.fromstring(virsh("dumpxml", "--inactive", self.name))
        return [b.get("dev") for b in tree.findall("./os/boot")]

    def force_off(self) -> None:
        virsh("destroy", self.name, ok_codes=(0, 1))

    def remove(self) -> None:
        self.force_off()
        virsh("undefine", self.name, ok_codes=(0, 1))


class Vbmcd:
    """Our own vbmcd: nothing shared with another one on the machine."""

    def __init__(self, workdir: str):
        self.dir = os.path.join(workdir, "vbmc")
        os.makedirs(os.path.join(self.dir, "conf.d"))
        self.config = os.path.join(self.dir, "virtualbmc.conf")
        self.pid_file = os.path.join(self.dir, "vbmcd.pid")
        with open(self.config, "w") as f:
            f.write(f"[default]\nconfig_dir = {self.dir}/conf.d\n"
                    f"pid_file = {self.pid_file}\n"
                    f"server_port = {free_port(socket.SOCK_STREAM)}\n"
                    f"[log]\nlogfile = {self.dir}/vbmcd.log\n")
        self.env = dict(os.environ, VIRTUALBMC_CONFIG=self.config)
        self.proc = subprocess.Popen(
            [tool("vbmcd"), "--foreground"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        wait_until(lambda: os.path.exists(self.pid_file), 30)
        wait_until(lambda: self.vbmc("list", check=False).returncode == 0,
                   30, 0.2)

    def vbmc(self, *args, check=True):
        # The test's own tool, with the test's password on its command
        # line: virtualbmc takes it no other way. --no-daemon: never a
        # vbmcd other than ours.
        return subprocess.run([tool("vbmc"), "--no-daemon", *args],
                              env=self.env,
                              capture_output=True, text=True, timeout=60,
                              check=check)

    def serve(self, domain: str, port: int) -> None:
        self.vbmc("add", domain, "--address", "127.0.0.1", "--port",
                  str(port), "--username", USERNAME, "--password", PASSWORD,
                  "--libvirt-uri", LIBVIRT_URI)
        self.vbmc("start", domain)

    def stop(self) -> None:
        """SIGTERM to our vbmcd (it stops its BMC children), by PID."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@dataclasses.dataclass
class Lab:
    domain: Domain
    port: int
    interface: str = "lanplus"

    def node(self, **kw) -> dict:
        node = {"id": NODE_ID,
                "bmc_address": "127.0.0.1", "bmc_port": self.port,
                "bmc_username": USERNAME, "bmc_password": PASSWORD,
                "interface": self.interface}
        node.update(kw)
        return node


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp(RUN))
    domain = Domain(f"arame-{RUN}", workdir)
    vbmcd = None
    try:
        vbmcd = Vbmcd(workdir)
        port = free_port()
        vbmcd.serve(domain.name, port)
        yield Lab(domain, port)
    finally:
        if vbmcd is not None:
            vbmcd.vbmc("stop", domain.name, check=False)
            vbmcd.vbmc("delete", domain.name, check=False)
            vbmcd.stop()
        domain.remove()


@pytest.fixture(scope="session")
def sim_lab(tmp_path_factory):
    """The same kind of domain behind OpenIPMI's ipmi_sim (IPMI 1.5)."""
    workdir = str(tmp_path_factory.mktemp(RUN + "sim"))
    domain = Domain(f"arame-{RUN}l", workdir)
    sim = None
    try:
        port = free_port()
        sim = IpmiSim(workdir, f"arame_{RUN}", domain.name, LIBVIRT_URI,
                      port, USERNAME, PASSWORD)
        lab = Lab(domain, port, interface="lan")
        hw = IPMIHardware(settings(attempts=1))
        bmc = checks.node(lab.node())

        def answers():
            assert sim.running(), "ipmi_sim exited"
            try:
                return hw.power.get_power_state(bmc)
            except errors.BMCError:
                return None
        wait_until(answers, 30, 0.2)
        yield lab
    finally:
        if sim is not None:
            sim.stop()
        domain.remove()


def settings(**kw) -> ipmitool_transport.Settings:
    kw.setdefault("timeout", 1)
    kw.setdefault("retries", 1)
    kw.setdefault("command_timeout", 10)
    kw.setdefault("attempts", 2)
    kw.setdefault("retry_interval", 0.2)
    return ipmitool_transport.Settings(**kw)


TIMING = Timing(state_timeout=30, poll_interval=0.1, soft_off_timeout=3)


@pytest.fixture
def manager(lab):
    """A fresh manager over the real driver; the domain starts off."""
    lab.domain.force_off()
    return BMAManager(IPMIHardware(settings()), TIMING)
