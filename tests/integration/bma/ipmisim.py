"""OpenIPMI's ipmi_sim as a second, IPMI 1.5 (`lan`) BMC in front of a
libvirt domain: virtualbmc speaks only IPMI 2.0.

ipmi_sim runs a chassis-control program for what touches the machine
(`<mc> get power`, `<mc> set power 1`, `set shutdown 1`, `set boot pxe`,
...); ours maps each to libvirt as virtualbmc does: power to
create/destroy, shutdown to an ACPI request, the boot device to the
domain's persistent <os><boot>.
"""

import os
import signal
import subprocess
import sys

CHASSIS = """#!{python}
# ipmi_sim chassis control for domain {domain}: <mc> get|set <parm> [val]
import sys
import xml.etree.ElementTree as ET

import libvirt

BOOT = {{"pxe": "network", "default": "hd", "none": "hd"}}
dom = libvirt.open("{uri}").lookupByName("{domain}")
op, params = sys.argv[2], sys.argv[3:]
if op == "get":
    for p in params:
        if p == "power":
            print(f"power:{{int(dom.isActive())}}")
        elif p == "boot":
            dev = ET.fromstring(dom.XMLDesc()).find("./os/boot").get("dev")
            print("boot:" + ("pxe" if dev == "network" else "default"))
        else:
            print(f"Invalid parameter: {{p}}")
            sys.exit(1)
elif op == "set":
    for p, v in zip(params[::2], params[1::2]):
        if p == "power" and v == "1" and not dom.isActive():
            dom.create()
        elif p == "power" and v == "0" and dom.isActive():
            dom.destroy()
        elif p == "shutdown" and v == "1" and dom.isActive():
            dom.shutdown()
        elif p == "reset" and v == "1" and dom.isActive():
            dom.reset()
        elif p == "boot":
            flags = libvirt.VIR_DOMAIN_XML_INACTIVE
            tree = ET.fromstring(dom.XMLDesc(flags))
            os_el = tree.find("./os")
            for b in os_el.findall("boot"):
                os_el.remove(b)
            ET.SubElement(os_el, "boot", dev=BOOT.get(v, "hd"))
            dom.connect().defineXML(ET.tostring(tree, encoding="unicode"))
else:
    sys.exit(1)
"""

LAN_CONF = """name "{name}"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 {port}
    priv_limit admin
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "{chassis} 0x20"
  user 2 true "{username}" "{password}" admin 10 md5
"""

EMU = """mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
mc_enable 0x20
"""


class IpmiSim:
    def __init__(
        self,
        workdir: str,
        name: str,
        domain: str,
        uri: str,
        port: int,
        username: str,
        password: str,
    ):
        self.dir = os.path.join(workdir, "ipmi_sim")
        os.makedirs(os.path.join(self.dir, "state"))
        chassis = os.path.join(self.dir, "chassis")
        self._write(
            chassis,
            CHASSIS.format(python=sys.executable, domain=domain, uri=uri),
            0o700,
        )
        # The BMC's user table, password included: the test's own file.
        conf = os.path.join(self.dir, "lan.conf")
        self._write(
            conf,
            LAN_CONF.format(
                name=name,
                port=port,
                chassis=chassis,
                username=username,
                password=password,
            ),
            0o600,
        )
        emu = os.path.join(self.dir, "bmc.emu")
        self._write(emu, EMU, 0o600)
        # Open as long as ipmi_sim runs; closed by stop().
        log_path = os.path.join(self.dir, "ipmi_sim.log")
        self.log = open(log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                "ipmi_sim",
                "-c",
                conf,
                "-f",
                emu,
                "-s",
                os.path.join(self.dir, "state"),
                "-n",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )

    @staticmethod
    def _write(path: str, text: str, mode: int) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM to our ipmi_sim, by PID."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
