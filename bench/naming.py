#!/usr/bin/env python3
"""Naming benchmark: how long from nsa receiving one change (the manager
method call) to dnsmasq answering it, with 10,000 reservations loaded; and,
in the same run, the same change made Neutron's way (rewrite the whole
hosts files, SIGHUP) on a second dnsmasq holding the same 10,000.

    python3 bench/naming.py                       # 10,000 loaded, 200 changes
    python3 bench/naming.py --reservations 2000 --changes 50 --json

Both dnsmasq processes run in a namespace of the run (a "network node"),
each on its own bridge; probe namespaces on each bridge ask:
- DHCP: a DHCPDISCOVER for the new MAC every --interval s until an OFFER
  of the reserved address comes back (the probe's socket is made inside
  the probe namespace; the clock is the same CLOCK_MONOTONIC as the call's);
- DNS: an A query (dnspython) every --interval s until the address answers;
- udhcpc: for --udhcpc-changes changes, a fresh `busybox udhcpc` with the
  new MAC, timed to its exit (includes the client's own start and its wait
  before REQUEST: its floor, measured on a present reservation, is shown).
Changes are interleaved (ours, reference, ours, ...) so that both see the
same machine. Renames (same MAC, new address and name: the path that needs
a SIGHUP) are measured too, --renames of them.

Run as root from the repository. Everything is named with a per-run
prefix and removed at the end, also after a failure; only processes the
run started are ended, by pid.
"""

import argparse
import ctypes
import datetime as dt
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import dns.exception
import dns.message
import dns.rcode
from lib import environment, report, stats
from lib.run import Deadline, log

import arame.cmd  # noqa: F401  (threading backend first)
from arame.agents.nsa.drivers import dnsmasq_config
from arame.agents.nsa.drivers.dnsmasq import DnsmasqDriver
from arame.agents.nsa.drivers.dnsmasq_files import NetworkDir
from arame.agents.nsa.manager import NSAManager
from arame.agents.nsa.records import Reservation, parse_network
from arame.common.conf import CONF
from arame.common.conf import nsa as nsa_conf

sys.path.insert(
    0,
    os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "tests",
        "integration",
    ),
)
import netlab

_libc = ctypes.CDLL(None, use_errno=True)


def in_netns(ns: str, fn):
    """fn() on a thread inside `ns`; sockets it makes stay in `ns`."""
    out = {}

    def run():
        fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
                raise OSError("setns failed")
        finally:
            os.close(fd)
        out["v"] = fn()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out["v"]


class Probe:
    """DHCP and DNS questions asked from a namespace on one bridge."""

    def __init__(self, ns: str, server: str, domain: str, interval: float):
        self.server, self.domain, self.interval = server, domain, interval

        def sockets():
            d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            d.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            d.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            d.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
            d.bind(("0.0.0.0", 68))
            return d, socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

        self.dhcp_sock, self.dns_sock = in_netns(ns, sockets)

    def offer(self, mac: str, ip: str, deadline: float) -> float | None:
        """Monotonic time of the first OFFER of `ip` to `mac`."""
        xid = random.getrandbits(32)
        chaddr = bytes.fromhex(mac.replace(":", "")) + bytes(10)
        pkt = struct.pack(
            "!BBBBIHH16s16s64s128s",
            1,
            1,
            6,
            0,
            xid,
            0,
            0x8000,
            bytes(16),
            chaddr,
            bytes(64),
            bytes(128),
        )
        pkt += bytes([99, 130, 83, 99, 53, 1, 1, 255])  # cookie, DISCOVER
        want = socket.inet_aton(ip)
        while time.monotonic() < deadline:
            self.dhcp_sock.sendto(pkt, ("255.255.255.255", 67))
            until = time.monotonic() + self.interval
            while (left := until - time.monotonic()) > 0:
                self.dhcp_sock.settimeout(left)
                try:
                    data = self.dhcp_sock.recv(2048)
                except TimeoutError:
                    break
                if data[4:8] == struct.pack("!I", xid) and data[16:20] == want:
                    return time.monotonic()
        return None

    def answer(
        self, name: str, ip: str | None, deadline: float
    ) -> float | None:
        """Monotonic time DNS first answers `name` with `ip` (None: with
        NXDOMAIN)."""
        fqdn = f"{name}.{self.domain}"
        while time.monotonic() < deadline:
            t = time.monotonic()
            r = self._ask(fqdn, 0.5)
            if r is not None:
                got = [i.to_text() for rr in r.answer for i in rr]
                if (ip is None and r.rcode() == dns.rcode.NXDOMAIN) or (
                    ip is not None and got == [ip]
                ):
                    return time.monotonic()
            rest = self.interval - (time.monotonic() - t)
            if rest > 0:
                time.sleep(rest)
        return None

    def _ask(self, fqdn: str, timeout: float):
        """One A query. By hand on our socket rather than dns.query.udp:
        eventlet (pulled in by the oslo libraries) replaces that function
        with its own when it is imported."""
        q = dns.message.make_query(fqdn, "A")
        self.dns_sock.sendto(q.to_wire(), (self.server, 53))
        until = time.monotonic() + timeout
        while (left := until - time.monotonic()) > 0:
            self.dns_sock.settimeout(left)
            try:
                r = dns.message.from_wire(self.dns_sock.recv(4096))
            except TimeoutError:
                return None
            except dns.exception.DNSException:
                continue
            if r.id == q.id:
                return r
        return None


def udhcpc(ns: str, script: str) -> tuple[bool, float]:
    t = time.monotonic()
    r = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            ns,
            "busybox",
            "udhcpc",
            "-i",
            "eth0",
            "-s",
            script,
            "-q",
            "-n",
            "-t",
            "5",
            "-T",
            "1",
            "-f",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return r.returncode == 0 and "ip=" in r.stdout, time.monotonic() - t


class Neutron:
    """The reference: a dnsmasq reading one hosts file pair, rewritten whole
    and SIGHUPed for every change."""

    def __init__(self, net, root: str, netns: str, reservations):
        self.net, self.ndir = net, NetworkDir(root, net.id)
        self.ndir.prepare()
        self.table = {r.mac: r for r in reservations}
        self.write()
        args = [
            a
            for a in dnsmasq_config.argv(net, self.ndir.paths)
            if not a.startswith(("--dhcp-hostsdir", "--hostsdir"))
        ]
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", netns] + args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def write(self):
        self.ndir.fold(self.net, list(self.table.values()))

    def change(self, res: Reservation):
        self.table[res.mac] = res
        self.write()
        os.kill(self.proc.pid, signal.SIGHUP)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def network_msg(prefix: str, key: str, octet: int) -> dict:
    return {
        "id": f"nw-{prefix}{key:0>3}",
        "bridge": f"{prefix}b{key}",
        "cidr": f"10.{octet}.0.0/16",
        "gateway": f"10.{octet}.0.1",
        "dns_domain": f"bench{key}.test",
        "dhcp_ranges": [],
        "mtu": 1450,
    }


def reservation(octet: int, n: int, tag: str = "h") -> Reservation:
    return Reservation(
        mac=f"52:54:{octet:02x}:{(n >> 16) & 255:02x}:"
        f"{(n >> 8) & 255:02x}:{n & 255:02x}",
        ip=ipaddress.IPv4Address(f"10.{octet}.0.0") + 256 + n,
        hostname=f"{tag}{n}",
    )


def both(f, g):
    """f() on a thread and g() here, at once: (f's result, g's result)."""
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("f", f()))
    t.start()
    second = g()
    t.join()
    return box.get("f"), second


def timed(results: dict, key: str, t0: float, t1: float | None) -> None:
    results.setdefault(key, [])
    if t1 is None:
        results.setdefault(key + "_missed", 0)
        results[key + "_missed"] += 1
    else:
        results[key].append((t1 - t0) * 1000)


def run(args, res: dict) -> None:
    nsa_conf.register(CONF)
    deadline = Deadline(args.max_seconds)
    lab = res["_lab"] = netlab.Lab()
    state = res["_state"] = tempfile.mkdtemp(prefix="arame-bench-naming-")
    os.chmod(state, 0o755)  # dnsmasq drops privileges and must read it
    script = os.path.join(state, "udhcpc.sh")
    with open(script, "w") as f:
        f.write('#!/bin/sh\n[ "$1" = bound ] && echo "ip=$ip"\nexit 0\n')
    os.chmod(script, 0o755)
    node = lab.netns("n")
    ours_msg, ref_msg = (
        network_msg(lab.prefix, "1", 90),
        network_msg(lab.prefix, "2", 91),
    )
    n = args.reservations

    log(f"loading {n} reservations into nsa (dnsmasq driver, netns {node})")
    driver = res["_driver"] = DnsmasqDriver(os.path.join(state, "nsa"), node)
    mgr = NSAManager(driver)
    t = time.monotonic()
    mgr.sync(
        {},
        ours_msg,
        [r.to_message() for r in (reservation(90, i) for i in range(n))],
    )
    res["load"] = {"sync_call_s": time.monotonic() - t}
    log("starting the reference dnsmasq with the same reservations")
    ref_net = parse_network(ref_msg)
    lab.bridge(node, ref_msg["bridge"])
    netlab.run(
        "ip",
        "addr",
        "add",
        ref_net.server_interface,
        "dev",
        ref_msg["bridge"],
        netns=node,
    )
    ref = res["_ref"] = Neutron(
        ref_net,
        os.path.join(state, "ref"),
        node,
        [reservation(91, i) for i in range(n)],
    )
    probes, dhcp_ns = {}, {}
    for key, msg, octet in (("ours", ours_msg, 90), ("ref", ref_msg, 91)):
        ns = lab.guest(
            node,
            msg["bridge"],
            f"p{key[0]}",
            ip=f"10.{octet}.255.250/16",
            mac=f"52:54:00:ff:00:{octet:02x}",
        )
        probes[key] = Probe(
            ns, f"10.{octet}.0.1", msg["dns_domain"], args.interval
        )
        dhcp_ns[key] = lab.guest(node, msg["bridge"], f"u{key[0]}")
    t = time.monotonic()
    for key, octet in (("ours", 90), ("ref", 91)):
        last = reservation(octet, n - 1)
        if (
            probes[key].answer(
                last.hostname, str(last.ip), time.monotonic() + 120
            )
            is None
        ):
            raise RuntimeError(
                f"{key}: the last of {n} reservations never answered"
            )
    res["load"]["served_after_s"] = time.monotonic() - t
    pid = driver.network_status(ours_msg["id"])["pid"]
    res["pid_at_start"] = pid

    def change_ours(r):
        mgr.add_reservation({}, ours_msg["id"], r.mac, str(r.ip), r.hostname)

    makers = {"ours": (90, change_ours), "ref": (91, ref.change)}
    lat: dict = {}
    log(
        f"{args.changes} new reservations each (DHCP offer + DNS answer probes)"
    )
    for i in range(args.changes):
        if deadline.passed():
            break
        for key, (octet, change) in makers.items():
            r = reservation(octet, n + i, "new")
            t0 = time.monotonic()
            change(r)
            t_call = time.monotonic()
            until = t0 + args.timeout
            probe = probes[key]
            t_dns, t_dhcp = both(
                lambda p=probe, r=r, u=until: p.answer(
                    r.hostname, str(r.ip), u
                ),
                lambda p=probe, r=r, u=until: p.offer(r.mac, str(r.ip), u),
            )
            timed(lat, f"{key}.call", t0, t_call)
            timed(lat, f"{key}.dns", t0, t_dns)
            timed(lat, f"{key}.dhcp", t0, t_dhcp)

    log(
        f"{args.udhcpc_changes} new reservations each, asked by busybox udhcpc"
    )
    floor_mac = reservation(90, 0)
    netlab.run(
        "ip",
        "link",
        "set",
        "eth0",
        "address",
        floor_mac.mac,
        netns=dhcp_ns["ours"],
    )
    for _ in range(args.udhcpc_changes):
        ok, took = udhcpc(dhcp_ns["ours"], script)
        if ok:
            lat.setdefault("udhcpc_floor", []).append(took * 1000)
    for i in range(args.udhcpc_changes):
        if deadline.passed():
            break
        for key, (octet, change) in makers.items():
            r = reservation(octet, n + args.changes + i, "cli")
            netlab.run(
                "ip",
                "link",
                "set",
                "eth0",
                "address",
                r.mac,
                netns=dhcp_ns[key],
            )
            t0 = time.monotonic()
            change(r)
            ok, _ = udhcpc(dhcp_ns[key], script)
            timed(lat, f"{key}.udhcpc", t0, time.monotonic() if ok else None)

    log(f"{args.renames} renames each (same MAC, new address and name)")
    for i in range(min(args.renames, args.changes)):
        if deadline.passed():
            break
        for key, (octet, change) in makers.items():
            old = reservation(octet, n + i, "new")
            new = Reservation(old.mac, old.ip + 40000, f"ren{i}")
            t0 = time.monotonic()
            change(new)
            until = t0 + args.timeout
            t_new = probes[key].answer(new.hostname, str(new.ip), until)
            t_gone = probes[key].answer(old.hostname, None, until)
            t_dhcp = probes[key].offer(new.mac, str(new.ip), until)
            done = (
                None
                if None in (t_new, t_gone, t_dhcp)
                else max(t_new, t_gone, t_dhcp)
            )
            timed(lat, f"{key}.rename", t0, done)

    st = driver.network_status(ours_msg["id"])
    res["pid_at_end"], res["restarts"] = st["pid"], st["restarts"]
    res["reloads"] = st["reloads"]
    res["latency_ms"] = {
        k: stats.summary(v) for k, v in lat.items() if isinstance(v, list)
    }
    res["missed"] = {k: v for k, v in lat.items() if k.endswith("_missed")}


def cleanup(res: dict) -> None:
    for key in ("_driver", "_ref"):
        if res.get(key) is not None:
            try:
                res[key].stop()
            except Exception as e:  # noqa: BLE001  (keep tearing down)
                log(f"stopping {key}: {e}")
    if res.get("_lab") is not None:
        res["_lab"].close()
    if res.get("_state") and not res.get("_keep"):
        shutil.rmtree(res["_state"], ignore_errors=True)


def print_report(res: dict) -> None:
    a, p = res["args"], print
    p(f"Arame naming benchmark (nsa + dnsmasq), {res['date']}")
    m = res["machine"]
    p(
        f"machine: {m['cores']} cores, {m['memory_gib']} GiB, load average at "
        f"start {m.get('loadavg_at_start')}; dnsmasq {res.get('dnsmasq')}"
    )
    code = res.get("code") or {}
    p(
        f"code: {code.get('commit')} (+{code.get('arame_uncommitted', 0)} "
        "uncommitted file(s) in arame/)"
    )
    ld = res.get("load") or {}
    if ld:
        p(
            f"{a['reservations']} reservations loaded on each dnsmasq (sync call "
            f"{ld['sync_call_s']:.2f} s, both answering the last {ld.get('served_after_s', 0):.2f} s later)"
        )
    p(
        f"probe interval {a['interval'] * 1000:.0f} ms; ms from the change "
        "(the manager call / the reference's rewrite) to the answer:"
    )
    lm = res.get("latency_ms") or {}
    rows = [
        ("call", "manager call returns"),
        ("dns", "DNS A answers"),
        ("dhcp", "DHCP offers the address"),
        ("udhcpc", "udhcpc bound (end to end)"),
        ("rename", "rename fully served"),
    ]
    for key, label in rows:
        for who, name in (
            ("ours", "nsa (watched dirs)"),
            ("ref", "reference (rewrite+SIGHUP)"),
        ):
            s = lm.get(f"{who}.{key}")
            if s:
                p(
                    f"  {label:<27s} {name:<27s} n={s['n']:<4d} {report.fmt_ms(s)}"
                )
    if lm.get("udhcpc_floor"):
        p(
            f"  udhcpc floor (a present reservation)                    "
            f"n={lm['udhcpc_floor']['n']:<4d} {report.fmt_ms(lm['udhcpc_floor'])}"
        )
    for key in ("dns", "dhcp", "udhcpc", "rename"):
        o, r = lm.get(f"ours.{key}"), lm.get(f"ref.{key}")
        if o and r:
            p(
                f"  ratio reference/nsa {key:<7s} p50 {r['p50'] / o['p50']:6.1f}x   "
                f"p95 {r['p95'] / o['p95']:6.1f}x"
            )
    if res.get("missed"):
        p(f"  not answered within {a['timeout']} s: {res['missed']}")
    p(
        f"nsa's dnsmasq pid {res.get('pid_at_start')} at start, "
        f"{res.get('pid_at_end')} at end, restarts {res.get('restarts')}, "
        f"SIGHUP reloads {res.get('reloads')} (the initial load and the renames)"
    )
    o = lm.get("ours.dhcp"), lm.get("ours.dns")
    if all(o):
        worst = max(o[0]["p95"], o[1]["p95"])
        p(
            f"goal p95 <= 50 ms for a new reservation (DHCP and DNS): "
            f"{'met' if worst <= 50 else 'NOT met'} ({worst:.1f} ms)"
        )
    if res.get("failure"):
        p(f"RUN FAILED: {res['failure']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--reservations", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--udhcpc-changes", type=int, default=40)
    ap.add_argument("--renames", type=int, default=50)
    ap.add_argument(
        "--interval",
        type=float,
        default=0.002,
        help="seconds between two probes (default 0.002)",
    )
    ap.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="a change not answered by then is counted missed",
    )
    ap.add_argument("--max-seconds", type=float, default=1200)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--save")
    ap.add_argument("--keep-state", action="store_true")
    args = ap.parse_args(argv)
    if args.reservations + args.changes + args.udhcpc_changes > 40000:
        ap.error("the /16 test networks hold at most 40,000 reservations")
    res = {
        "args": vars(args),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": environment.machine(),
        "code": environment.code_version(),
        "_keep": args.keep_state,
        "dnsmasq": subprocess.run(
            ["dnsmasq", "--version"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split("\n")[0],
    }
    try:
        run(args, res)
    except Exception as e:  # noqa: BLE001  (reported, then torn down)
        res["failure"] = f"{type(e).__name__}: {e}"
        log(f"run failed: {res['failure']}")
    finally:
        cleanup(res)
    out = {k: v for k, v in res.items() if not k.startswith("_")}
    if args.save:
        with open(args.save, "w") as f:
            json.dump(out, f, indent=2, default=str)
    if args.json:
        json.dump(out, sys.stdout, indent=2, default=str)
        print()
    else:
        print_report(out)
    return 1 if res.get("failure") else 0


if __name__ == "__main__":
    sys.exit(main())
