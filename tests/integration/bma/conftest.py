"""The bare-metal agent against a real BMC: virtualbmc in front of a
libvirt domain, reached by the real ipmitool on loopback.

Session: a tiny `type='qemu'` domain `arame-<run>` with no disk and no
network interface (powered on, it sits in its BIOS: no traffic leaves
it), and our own vbmcd (its own config directory, pid file and control
port) serving one IPMI endpoint for the domain on a free UDP port of
127.0.0.1. libvirtd is the machine's (started in the lab namespace if
it is not answering, never stopped here). At the end the vbmc entry,
vbmcd (by its PID) and the domain go, also after a failure.

`sim_lab`: a second domain behind OpenIPMI's ipmi_sim (ipmisim.py), for
the IPMI 1.5 `lan` interface that virtualbmc lacks.
"""

import dataclasses
import os
import uuid

import pytest

from arame.agents.bma import checks, errors
from arame.agents.bma.drivers import ipmitool_transport
from arame.agents.bma.drivers.ipmitool import IPMIHardware
from arame.agents.bma.manager import BMAManager
from arame.agents.bma.power import Timing
from arame.common import runner
from arame.deploy import infra
from tests.helpers.ports import udp_port
from tests.helpers.vbmc import Vbmcd
from tests.helpers.waiting import wait_until

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


def virsh(*args, ok_codes=(0,)) -> str:
    return runner.run(
        ["virsh", "-c", LIBVIRT_URI, *args], timeout=60, ok_codes=ok_codes
    ).stdout


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


@dataclasses.dataclass
class Lab:
    domain: Domain
    port: int
    interface: str = "lanplus"

    def node(self, **kw) -> dict:
        node = {
            "id": NODE_ID,
            "bmc_address": "127.0.0.1",
            "bmc_port": self.port,
            "bmc_username": USERNAME,
            "bmc_password": PASSWORD,
            "interface": self.interface,
        }
        node.update(kw)
        return node


@pytest.fixture(scope="session")
def libvirtd():
    """The machine's libvirtd (in the lab namespace), started if it is not
    answering, so that this suite also runs on its own."""
    infra.Libvirt().ensure_running()


@pytest.fixture(scope="session")
def lab(libvirtd, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp(RUN))
    domain = Domain(f"arame-{RUN}", workdir)
    vbmcd = None
    try:
        vbmcd = Vbmcd(workdir, USERNAME, PASSWORD, LIBVIRT_URI)
        port = udp_port()
        vbmcd.serve(domain.name, port)
        yield Lab(domain, port)
    finally:
        if vbmcd is not None:
            vbmcd.unserve(domain.name)
            vbmcd.stop()
        domain.remove()


@pytest.fixture(scope="session")
def sim_lab(libvirtd, tmp_path_factory):
    """The same kind of domain behind OpenIPMI's ipmi_sim (IPMI 1.5)."""
    workdir = str(tmp_path_factory.mktemp(RUN + "sim"))
    domain = Domain(f"arame-{RUN}l", workdir)
    sim = None
    try:
        port = udp_port()
        sim = IpmiSim(
            workdir,
            f"arame_{RUN}",
            domain.name,
            LIBVIRT_URI,
            port,
            USERNAME,
            PASSWORD,
        )
        lab = Lab(domain, port, interface="lan")
        hw = IPMIHardware(settings(attempts=1))
        bmc = checks.node(lab.node())

        def answers():
            assert sim.running(), "ipmi_sim exited"
            try:
                return hw.power.get_power_state(bmc)
            except errors.BMCError:
                return None

        wait_until(answers, 30, "ipmi_sim to answer", interval=0.2)
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
