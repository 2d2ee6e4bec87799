"""Network namespaces for integration tests: hosts, guests, bridges, veths.

Every name carries a per-run prefix so that a run clears what an earlier,
crashed run left (by those names) and never touches anything else. Traffic
stays inside the namespaces made here.
"""

import contextlib
import os
import subprocess
import uuid


def run(
    *args,
    netns: str | None = None,
    check: bool = True,
    timeout: float = 30,
    input: str | None = None,
):
    cmd = list(args)
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
        input=input,
    )


def run_prefix() -> str:
    """Short and unique per run: names must fit Linux's 15 characters."""
    return "t" + uuid.uuid4().hex[:4]


class Lab:
    """Namespaces, links and processes made by one test, all removed by
    `close()` (also after a failure)."""

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix or run_prefix()
        self.namespaces: list[str] = []
        self.procs: list[subprocess.Popen] = []

    def name(self, suffix: str) -> str:
        n = f"{self.prefix}{suffix}"
        assert len(n) <= 15, f"{n!r} is too long for a link name"
        return n

    def netns(self, suffix: str) -> str:
        ns = self.name(suffix)
        run("ip", "netns", "del", ns, check=False)
        run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        run("ip", "link", "set", "lo", "up", netns=ns)
        return ns

    def bridge(self, ns: str, name: str, mtu: int | None = None) -> str:
        run("ip", "link", "add", name, "type", "bridge", netns=ns)
        if mtu:
            run("ip", "link", "set", name, "mtu", str(mtu), netns=ns)
        run("ip", "link", "set", name, "up", netns=ns)
        return name

    def veth(self, ns_a: str, name_a: str, ns_b: str, name_b: str) -> None:
        """A veth pair with one end in each namespace, both up."""
        run(
            "ip",
            "link",
            "add",
            name_a,
            "netns",
            ns_a,
            "type",
            "veth",
            "peer",
            "name",
            name_b,
            "netns",
            ns_b,
        )
        run("ip", "link", "set", name_a, "up", netns=ns_a)
        run("ip", "link", "set", name_b, "up", netns=ns_b)

    def guest(
        self,
        host_ns: str,
        bridge: str,
        suffix: str,
        *,
        ip: str | None = None,
        mac: str | None = None,
        port_name: str | None = None,
    ) -> str:
        """A namespace standing for a guest: its eth0 is a veth whose host
        end (named like a tap) is a port of `bridge` in host_ns."""
        ns = self.netns(suffix)
        port = port_name or self.name(suffix + "p")
        self.veth(host_ns, port, ns, "eth0")
        run("ip", "link", "set", port, "master", bridge, netns=host_ns)
        if mac:
            run("ip", "link", "set", "eth0", "address", mac, netns=ns)
        if ip:
            run("ip", "addr", "add", ip, "dev", "eth0", netns=ns)
        return ns

    def spawn(self, *args, netns: str | None = None, **kw) -> subprocess.Popen:
        cmd = list(args)
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(cmd, **kw)
        self.procs.append(p)
        return p

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                with contextlib.suppress(Exception):
                    p.wait(timeout=5)
        for ns in reversed(self.namespaces):
            # Processes still inside (started by code under test) die with
            # their namespace's last reference only if we end them first.
            pids = run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            run("ip", "netns", "del", ns, check=False)
        self.namespaces.clear()


@contextlib.contextmanager
def lab(prefix: str | None = None):
    lb = Lab(prefix)
    try:
        yield lb
    finally:
        lb.close()


def can_connect_tcp(
    src_ns: str, ip: str, port: int, timeout: float = 2
) -> bool:
    return (
        run(
            "nc",
            "-z",
            "-w",
            str(int(max(1, timeout))),
            ip,
            str(port),
            netns=src_ns,
            check=False,
            timeout=timeout + 5,
        ).returncode
        == 0
    )


def can_ping(src_ns: str, ip: str, timeout: float = 2) -> bool:
    return (
        run(
            "busybox",
            "ping",
            "-c",
            "1",
            "-W",
            str(int(max(1, timeout))),
            ip,
            netns=src_ns,
            check=False,
            timeout=timeout + 5,
        ).returncode
        == 0
    )
