"""A network host, the outside world and guests, in namespaces of one run.

- "h": the network host, the driver's namespace: the tenant bridges and
  the external bridge live here. Its end of the uplink veth is the
  physical device of the external network (flat, `public`).
- "o": the outside, at the uplink's other end: 203.0.113.1/24, the
  routers' next hop.
- guests: namespaces whose eth0 is a veth into a tenant bridge, with an
  address of the tenant subnet and the network's gateway (the router) as
  default route.

Every name starts with the lab's per-run prefix; the routers' namespaces
too (the driver's namespace prefix is `<run prefix>-`).
"""

import dataclasses
import json
import os
import sys

import netlab
from oslo_config import cfg

from arame.agents.l3.drivers import base
from arame.agents.l3.drivers.netns import NETNS_DIR, NetnsRouterDriver
from arame.common import ids
from arame.common.conf import hva_networking
from tests.helpers.waiting import wait_until

UPSTREAM = "203.0.113.1"
EXT_CIDR = "203.0.113.0/24"

# Answers every connection with the peer's address and a name, then
# closes: the client learns what source the server saw.
WHOAMI_SERVER = """
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen()
print("listening", flush=True)
while True:
    c, peer = srv.accept()
    with c:
        c.sendall(f"{peer[0]} {sys.argv[2]}\\n".encode())
"""

ECHO_SERVER = """
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen()
print("listening", flush=True)
def serve(c):
    with c:
        while data := c.recv(4096):
            c.sendall(data)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

# Sends a line, waits for its echo (1.5 s at most), prints "ok N"; prints
# "cut" and ends when an echo does not come.
STREAM_CLIENT = """
import socket, sys, threading
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.settimeout(1.5)
n = 0
while True:
    try:
        s.sendall(b"ping\\n")
        if not s.recv(64):
            print("closed", flush=True)
            break
    except OSError as e:
        print("cut", type(e).__name__, flush=True)
        break
    n += 1
    print("ok", n, flush=True)
    threading.Event().wait(0.05)
"""


def tenant_network(segment_id: int) -> dict:
    return {
        "id": ids.generate("network"),
        "segmentation": "vxlan",
        "segment_id": segment_id,
        "mtu": 1450,
    }


def router_id() -> str:
    return "rt-" + ids.generate("network").split("-", 1)[1]


@dataclasses.dataclass
class World:
    lab: netlab.Lab
    host: str
    outside: str
    uplink: str  # the external network's physical device, in host
    driver: NetnsRouterDriver
    external: dict

    # -- messages ------------------------------------------------------------

    def router(
        self,
        rid: str,
        address: str | None,
        interfaces: list[tuple[dict, str]] = (),
        floating: dict[str, str] | None = None,
    ) -> dict:
        """A router message: `address` the external one (None: no
        gateway), interfaces (network, gateway/prefix), floating
        {fip: fixed}."""
        return {
            "id": rid,
            "gateway": None
            if address is None
            else {
                "network": self.external,
                "address": f"{address}/24",
                "next_hop": UPSTREAM,
            },
            "interfaces": [
                {"network": net, "address": addr} for net, addr in interfaces
            ],
            "floating_ips": [
                {"address": f, "fixed_address": x}
                for f, x in (floating or {}).items()
            ],
        }

    def apply(self, msg: dict) -> None:
        self.driver.apply(base.parse_router(msg))

    # -- guests and processes ------------------------------------------------

    def guest(self, suffix: str, network: dict, cidr_ip: str, gw: str) -> str:
        """A guest namespace on `network`'s bridge (which the router's
        apply made), `cidr_ip` on eth0 (MTU 1450), default via `gw`."""
        ns = self.lab.guest(self.host, network["id"], suffix, ip=cidr_ip)
        netlab.run("ip", "link", "set", "eth0", "mtu", "1450", netns=ns)
        netlab.run("ip", "route", "add", "default", "via", gw, netns=ns)
        return ns

    def serve(self, ns: str, port: int, name: str = "", echo=False):
        script = ECHO_SERVER if echo else WHOAMI_SERVER
        p = self.lab.spawn(
            sys.executable, "-c", script, str(port), name, netns=ns, text=True
        )
        assert p.stdout.readline().strip() == "listening"
        return p

    def ask(self, ns: str, ip: str, port: int) -> str | None:
        """What a WHOAMI server at ip:port answers from `ns` (None: no
        connection)."""
        res = netlab.run(
            "nc",
            "-w",
            "2",
            ip,
            str(port),
            netns=ns,
            check=False,
            timeout=10,
            input="",
        )
        out = res.stdout.strip()
        return out or None

    # -- what is there -------------------------------------------------------

    def router_namespaces(self) -> set[str]:
        return {
            n
            for n in os.listdir(NETNS_DIR)
            if n.startswith(self.driver.prefix)
        }

    def host_links(self) -> dict[str, dict]:
        out = netlab.run("ip", "-j", "-d", "link", "show", netns=self.host)
        return {link["ifname"]: link for link in json.loads(out.stdout)}


def make_world(lab: netlab.Lab) -> World:
    host = lab.netns("h")
    outside = lab.netns("o")
    uplink, upstream = lab.name("pub"), lab.name("up")
    lab.veth(host, uplink, outside, upstream)
    netlab.run(
        "ip", "addr", "add", f"{UPSTREAM}/24", "dev", upstream, netns=outside
    )
    driver = NetnsRouterDriver(
        netns=host,
        namespace_prefix=f"{lab.prefix}-",
        physical_networks={"public": uplink},
        max_connections=4096,
        conf=_networking_conf(),
    )
    external = {
        "id": ids.generate("network"),
        "segmentation": "flat",
        "segment_id": None,
        "mtu": 1500,
        "physical_network": "public",
    }
    return World(lab, host, outside, uplink, driver, external)


def close_world(world: World) -> None:
    """Every router removed, then whatever a failure left by our names."""
    errors = []
    for rid in sorted(world.driver.routers()):
        try:
            world.driver.remove(rid)
        except Exception as e:  # keep cleaning; report at the end
            errors.append(e)
    for ns in world.router_namespaces():
        netlab.run("ip", "netns", "del", ns, check=False)
    assert not errors, errors


def _networking_conf() -> cfg.ConfigOpts:
    """[hva_networking] for one host: VXLAN from a fixed local address,
    no flooding to other hosts (there are none)."""
    conf = cfg.ConfigOpts()
    conf.register_opts(hva_networking.opts, group=hva_networking.group.name)
    conf([], default_config_files=[])
    conf.set_override("local_ip", "192.0.2.1", group="hva_networking")
    conf.set_override("vxlan_group", "", group="hva_networking")
    return conf


class Stream:
    """A client connection whose progress the test can watch."""

    def __init__(self, world: World, ns: str, ip: str, port: int):
        import threading

        self.proc = world.lab.spawn(
            sys.executable,
            "-c",
            STREAM_CLIENT,
            ip,
            str(port),
            netns=ns,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    @property
    def count(self) -> int:
        oks = [x for x in self.lines if x.startswith("ok ")]
        return int(oks[-1].split()[1]) if oks else 0

    @property
    def cut(self) -> bool:
        return any(x.startswith(("cut", "closed")) for x in self.lines)

    def wait_flowing(self, more: int = 5) -> None:
        start = self.count
        wait_until(
            lambda: self.count >= start + more or self.cut,
            what="the stream to flow",
        )
        assert not self.cut, self.lines
