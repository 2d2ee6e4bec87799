"""A network node in a namespace, guests asking it for addresses and names.

    node ns: bridge(s) made by the driver, dnsmasq (one per network)
       -- veth -- guest ns (eth0 with a fixed MAC; busybox udhcpc, dnspython)

The driver under test runs dnsmasq and its plumbing inside the node
namespace (`netns=`), as nsa does in the single-host lab. Every name carries
the run's prefix; namespaces, state directory and processes are removed at
the end, also after a failure.
"""

import contextlib
import ctypes
import dataclasses
import os
import shutil
import socket
import stat
import tempfile
import threading

import dns.message
import dns.rcode
import dns.reversename
import netlab
import pytest

from arame.agents.nsa.drivers.dnsmasq import DnsmasqDriver
from arame.agents.nsa.manager import NSAManager
from arame.common.conf import CONF
from arame.common.conf import nsa as nsa_conf

TOOLS = ("dnsmasq", "dhcp_release", "busybox", "ip")

UDHCPC_SCRIPT = """#!/bin/sh
# Called by busybox udhcpc: print what the server gave, configure eth0.
case "$1" in
  bound|renew)
    echo "ip=$ip"; echo "subnet=$subnet"; echo "router=$router"
    echo "dns=$dns"; echo "hostname=$hostname"; echo "domain=$domain"
    echo "mtu=$mtu"; echo "serverid=$serverid"
    ip addr flush dev "$interface"
    ip addr add "$ip/$subnet" dev "$interface"
    ;;
  deconfig)
    ip addr flush dev "$interface"
    ;;
esac
"""


# -- a thread inside a namespace (dnspython has no netns option) -----------
_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000


def in_netns(ns: str, fn):
    """fn() on a thread that joined network namespace `ns` (setns applies to
    the calling thread only, so the rest of the process stays put)."""
    out = {}

    def run():
        fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {ns}")
        finally:
            os.close(fd)
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001  (re-raised by the caller)
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def dns_query(
    ns: str, server: str, name: str, rdtype: str = "A", timeout: float = 1.0
):
    """(rcode text, sorted answers as text) of one UDP query sent from `ns`."""
    if rdtype == "PTR":
        name = dns.reversename.from_address(name).to_text()

    def ask():
        # By hand rather than dns.query.udp: eventlet (pulled in by the oslo
        # libraries) replaces that function with its own once imported.
        q = dns.message.make_query(name, rdtype)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(q.to_wire(), (server, 53))
            try:
                while True:
                    r = dns.message.from_wire(s.recv(4096))
                    if r.id == q.id:
                        break
            except TimeoutError:
                return "TIMEOUT", []
        answers = sorted(
            item.to_text() for rrset in r.answer for item in rrset
        )
        return dns.rcode.to_text(r.rcode()), answers

    return in_netns(ns, ask)


@dataclasses.dataclass
class Lease:
    ok: bool
    values: dict
    output: str


@dataclasses.dataclass
class Node:
    lab: netlab.Lab
    ns: str
    state: str
    script: str
    driver: DnsmasqDriver
    manager: NSAManager
    guests: dict = dataclasses.field(default_factory=dict)

    def network(self, key: str, third_octet: int, **kw) -> dict:
        msg = {
            "id": f"nw-{self.lab.prefix}{key:0>3}",
            "bridge": self.lab.name(f"b{key}"),
            "cidr": f"10.{third_octet}.0.0/24",
            "gateway": f"10.{third_octet}.0.1",
            "dns_domain": f"{key}.{self.lab.prefix}.test",
            "dhcp_ranges": [
                [f"10.{third_octet}.0.10", f"10.{third_octet}.0.200"]
            ],
            "mtu": 1450,
        }
        msg.update(kw)
        return msg

    def guest(self, bridge: str, key: str, mac: str) -> str:
        """A guest namespace on `bridge` whose eth0 has `mac`."""
        ns = self.lab.guest(self.ns, bridge, key, mac=mac)
        self.guests[key] = ns
        return ns

    def set_mac(self, guest_ns: str, mac: str) -> None:
        netlab.run("ip", "link", "set", "eth0", "address", mac, netns=guest_ns)

    def udhcpc(self, guest_ns: str, tries: int = 5) -> Lease:
        """A fresh DHCP exchange (busybox udhcpc, quit once bound)."""
        r = netlab.run(
            "busybox",
            "udhcpc",
            "-i",
            "eth0",
            "-s",
            self.script,
            "-q",
            "-n",
            "-t",
            str(tries),
            "-T",
            "1",
            "-f",
            "-O",
            "mtu",
            netns=guest_ns,
            check=False,
            timeout=tries * 3 + 10,
        )
        values = dict(
            line.split("=", 1) for line in r.stdout.splitlines() if "=" in line
        )
        return Lease(
            r.returncode == 0 and "ip" in values, values, r.stdout + r.stderr
        )

    def pid(self, network_id: str) -> int | None:
        return self.driver.network_status(network_id)["pid"]


def _check_tools():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    assert not missing, f"missing tools (see INFRA-NOTES): {missing}"


@pytest.fixture
def node():
    """A node namespace, a 0755 state directory (dnsmasq drops privileges and
    must read it) and a driver + manager serving from it."""
    _check_tools()
    nsa_conf.register(CONF)
    state = tempfile.mkdtemp(prefix="arame-nsa-it-")
    os.chmod(state, 0o755)
    script = os.path.join(state, "udhcpc.sh")
    with open(script, "w") as f:
        f.write(UDHCPC_SCRIPT)
    os.chmod(
        script,
        stat.S_IRWXU
        | stat.S_IRGRP
        | stat.S_IXGRP
        | stat.S_IROTH
        | stat.S_IXOTH,
    )
    lab = netlab.Lab()
    made = None
    try:
        ns = lab.netns("n")
        driver = DnsmasqDriver(os.path.join(state, "nsa"), ns)
        made = Node(lab, ns, state, script, driver, NSAManager(driver))
        yield made
    finally:
        with contextlib.suppress(Exception):
            if made is not None:
                made.driver.stop()  # a test may have put another in place
        lab.close()
        shutil.rmtree(state, ignore_errors=True)
