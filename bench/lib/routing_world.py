"""The namespaces of bench/routing.py, and what runs in them.

- "h": the network host, the L3 agent's `[l3] netns`: the tenant and
  external bridges live here; its end of the uplink veth ("pub") is the
  external network's physical device.
- "o": the outside, at the uplink's other end, holding the external
  network's gateway address; the prober and the iperf3 server run here.
- "g": the guest, a veth into the tenant network's bridge holding the
  fixed addresses of the measured instances' ports; a TCP server on it.

Every name starts with the run's prefix; so do the routers' namespaces
(the agent's `namespace_prefix` is `<prefix>-`). `close` removes them all,
the agent's routers included, by that prefix only.
"""

import os
import subprocess
import sys
import time

sys.path.insert(
    0,
    os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "..",
        "tests",
        "integration",
    ),
)
import netlab  # noqa: E402

PORT = 8080

# In the outside: for each line "ip port" on stdin, a TCP connect every
# 2 ms (non-blocking, each attempt kept 200 ms) until one is answered;
# prints "ok <CLOCK_MONOTONIC> <attempts>" (the clock is the machine's,
# the same in every network namespace) or "timeout".
PROBER = r"""
import selectors, socket, sys, time
for line in sys.stdin:
    ip, port, limit = line.split()
    port, end = int(port), time.monotonic() + float(limit)
    sel = selectors.DefaultSelector()
    opened, attempts, done = [], 0, None
    while done is None and time.monotonic() < end:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((ip, port))
        attempts += 1
        sel.register(s, selectors.EVENT_WRITE, time.monotonic())
        opened.append(s)
        for key, _ in sel.select(0.002):
            err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                done = time.monotonic()
                break
            sel.unregister(key.fileobj)
            key.fileobj.close()
            opened.remove(key.fileobj)
        now = time.monotonic()
        for s in list(opened):
            if now - sel.get_key(s).data > 0.2:
                sel.unregister(s)
                s.close()
                opened.remove(s)
    for s in opened:
        s.close()
    sel.close()
    print("timeout" if done is None else f"ok {done} {attempts}", flush=True)
"""

# In the guest: accept, close; forever.
SERVER = r"""
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen(1024)
print("listening", flush=True)
while True:
    c, _ = srv.accept()
    c.close()
"""

# Python sender/receiver when iperf3 is missing: bytes for N seconds.
SINK = r"""
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen()
print("listening", flush=True)
while True:
    c, _ = srv.accept()
    with c:
        while c.recv(1 << 20):
            pass
"""
SENDER = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
buf, n = b"x" * (1 << 16), 0
t0 = time.monotonic()
end = t0 + float(sys.argv[3])
while time.monotonic() < end:
    n += s.send(buf)
s.close()
print(n * 8 / (time.monotonic() - t0))
"""


class World:
    def __init__(self, prefix: str):
        self.lab = netlab.Lab(prefix)
        self.prefix = self.lab.prefix
        self.host = self.lab.netns("h")
        self.outside = self.lab.netns("o")
        self.uplink = self.lab.name("pub")
        self.upstream = self.lab.name("up")
        self.lab.veth(self.host, self.uplink, self.outside, self.upstream)
        self.guest = None
        self.prober = None

    @property
    def router_prefix(self) -> str:
        return f"{self.prefix}-"

    def outside_address(self, cidr_ip: str) -> None:
        netlab.run(
            "ip", "addr", "add", cidr_ip, "dev", self.upstream,
            netns=self.outside,
        )  # fmt: skip

    def route_outside(self, dest: str, via: str) -> None:
        netlab.run(
            "ip", "route", "replace", dest, "via", via, netns=self.outside
        )

    def unroute_outside(self, dest: str) -> None:
        netlab.run("ip", "route", "del", dest, netns=self.outside, check=False)

    def make_guest(self, bridge: str, addrs: list[str], gw: str, mtu: int):
        """The guest on the tenant bridge: addrs (ip/prefix), the first
        primary; default route via the router; the TCP server."""
        ns = self.lab.guest(self.host, bridge, "g", ip=addrs[0])
        netlab.run("ip", "link", "set", "eth0", "mtu", str(mtu), netns=ns)
        batch = "".join(f"addr add {a} dev eth0\n" for a in addrs[1:])
        if batch:
            netlab.run("ip", "-batch", "-", netns=ns, input=batch)
        netlab.run("ip", "route", "add", "default", "via", gw, netns=ns)
        self.guest = ns
        p = self.lab.spawn(
            sys.executable, "-c", SERVER, str(PORT), netns=ns, text=True
        )
        if p.stdout.readline().strip() != "listening":
            raise RuntimeError("the guest's server did not start")
        self.prober = self.lab.spawn(
            sys.executable, "-c", PROBER, netns=self.outside, text=True,
            stdin=subprocess.PIPE,
        )  # fmt: skip
        return ns

    def probe_start(self, ip: str, limit: float) -> None:
        self.prober.stdin.write(f"{ip} {PORT} {limit}\n")
        self.prober.stdin.flush()

    def probe_result(self) -> tuple[float | None, int]:
        """(monotonic time of the first answered connect, attempts)."""
        line = self.prober.stdout.readline().split()
        if not line or line[0] != "ok":
            return None, 0
        return float(line[1]), int(line[2])

    def router_namespaces(self) -> list[str]:
        return sorted(
            n
            for n in os.listdir("/run/netns")
            if n.startswith(self.router_prefix)
        )

    def close(self) -> list[str]:
        """The lab's namespaces, then any router namespace by the prefix;
        returns what was still there after (should be empty)."""
        self.lab.close()
        for ns in self.router_namespaces():
            netlab.run("ip", "netns", "del", ns, check=False)
        left = [
            n for n in os.listdir("/run/netns") if n.startswith(self.prefix)
        ]
        return left


def timed(args: list[str], netns: str, input: str | None = None) -> float:
    """Seconds one command takes, `ip netns exec` included (what the agent
    pays too)."""
    t0 = time.perf_counter()
    netlab.run(*args, netns=netns, input=input)
    return time.perf_counter() - t0


def table_text(router_ns: str) -> str:
    """The router's table as loaded, as one replacing file."""
    listed = netlab.run(
        "nft", "list", "table", "ip", "arame_router", netns=router_ns
    ).stdout
    return "table ip arame_router\ndelete table ip arame_router\n" + listed


def throughput(world: World, server_ip: str, seconds: float) -> dict:
    """Guest -> outside bits per second: iperf3 if installed, else the
    Python sender."""
    import shutil

    if shutil.which("iperf3"):
        import json

        srv = world.lab.spawn(
            "iperf3", "-s", "-1", "-p", "5201", netns=world.outside, text=True
        )
        time.sleep(0.3)  # iperf3 -s prints nothing we can wait on reliably
        out = netlab.run(
            "iperf3", "-c", server_ip, "-p", "5201", "-t", str(seconds),
            "-J", netns=world.guest, timeout=seconds + 30,
        ).stdout  # fmt: skip
        srv.wait(timeout=10)
        end = json.loads(out)["end"]
        return {
            "tool": "iperf3",
            "bps": end["sum_received"]["bits_per_second"],
            "retransmits": end["sum_sent"].get("retransmits"),
        }
    srv = world.lab.spawn(
        sys.executable, "-c", SINK, "5201", netns=world.outside, text=True
    )
    srv.stdout.readline()
    out = netlab.run(
        sys.executable, "-c", SENDER, server_ip, "5201", str(seconds),
        netns=world.guest, timeout=seconds + 30,
    ).stdout  # fmt: skip
    srv.kill()
    return {"tool": "python", "bps": float(out.strip())}
