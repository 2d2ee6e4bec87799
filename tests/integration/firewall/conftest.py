"""Fixtures: a hypervisor host in a namespace (see hostlab.py).

One lab per module (namespaces take a while); each test applies the ports
it needs and every port is removed after it. Everything is named with the
run's prefix and removed at the end, also after a failure.
"""

import shutil
import subprocess

import netlab
import pytest

from arame.agents.hva.firewall import Firewall
from tests.helpers.waiting import wait_until

from .hostlab import Guest, Host

TOOLS = (
    "iptables-restore",
    "iptables-save",
    "ebtables-restore",
    "ebtables-save",
    "ipset",
    "conntrack",
    "nc",
    "busybox",
    "ss",
    "dnsmasq",
)


@pytest.fixture(scope="module")
def host():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    assert not missing, f"missing tools: {missing}"
    with netlab.lab() as lab:
        ns = lab.netns("h")
        bridge = lab.bridge(ns, lab.name("br"))
        guests = {}
        for n, key in enumerate("abc", start=1):
            ip, mac = f"10.77.0.{n}", f"52:54:00:77:00:0{n}"
            tap = lab.name(f"tap{key}")
            gns = lab.guest(
                ns, bridge, key, ip=ip + "/24", mac=mac, port_name=tap
            )
            guests[key] = Guest(key, gns, ip, mac, tap, f"i-fwtest0{key}")
        outsider = lab.guest(
            ns, bridge, "o", ip="10.77.0.100/24", mac="52:54:00:77:00:64"
        )
        fw = Firewall(netns=ns)
        fw.setup()
        yield Host(lab, ns, bridge, guests, outsider, fw)


@pytest.fixture
def net(host):
    """The host with no port applied when the test starts and ends."""
    yield host
    for g in host.guests.values():
        host.fw.remove_port(g.instance_id)
    assert host.fw.ports() == set()


@pytest.fixture
def procs(host):
    """Start processes in a namespace for one test; they are killed (by
    PID) after it."""
    started: list[subprocess.Popen] = []

    def spawn(ns: str, *args, **kw) -> subprocess.Popen:
        p = host.lab.spawn(*args, netns=ns, **kw)
        started.append(p)
        return p

    yield spawn
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)


def listening(ns: str, port: int) -> bool:
    out = netlab.run("ss", "-Hltn", f"sport = :{port}", netns=ns).stdout
    return bool(out.strip())


@pytest.fixture
def listen(procs):
    """listen(guest, port): a TCP server (nc -lk) in the guest, ready."""

    def start(guest: Guest, port: int) -> None:
        procs(
            guest.ns,
            "nc",
            "-lk",
            str(port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(
            lambda: listening(guest.ns, port),
            5,
            f"{guest.key} listening on {port}",
        )

    return start
