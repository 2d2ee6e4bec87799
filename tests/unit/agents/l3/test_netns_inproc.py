"""The in-process fast path of the netns driver without a router: the
frames and netlink messages it builds, the namespace threads, and the
driver's use of it (a fake), falling back to commands when it cannot
work. Real namespaces and packets: tests/integration/l3/."""

import ipaddress
import os
import shutil
import socket
import struct
import threading

import pytest

from arame.agents.l3.drivers import (
    base,
    ctnl,
    garp,
    netns,
    netns_floating,
    netns_thread,
    rtnl,
)
from arame.common import runner

from .specs import message
from .test_netns_driver import Recorder, conf


def test_gratuitous_arp_frame():
    mac = bytes.fromhex("02aabbccddee")
    f = garp.frame(mac, "203.0.113.20")
    ip = ipaddress.IPv4Address("203.0.113.20").packed
    assert len(f) == 42
    assert f[:6] == b"\xff" * 6 and f[6:12] == mac
    assert f[12:14] == b"\x08\x06"
    # a request (1), from the address, for the address: arping -U's
    assert struct.unpack("!HHBBH", f[14:22]) == (1, 0x0800, 6, 4, 1)
    assert f[22:28] == mac and f[28:32] == ip
    assert f[32:38] == b"\x00" * 6 and f[38:42] == ip


def test_address_messages():
    m = rtnl._message("add", 7, "203.0.113.20/32", 3)
    length, kind, flags, seq, _ = rtnl._NLMSGHDR.unpack_from(m)
    assert (length, kind, seq) == (len(m), rtnl.RTM_NEWADDR, 3)
    assert flags & rtnl.NLM_F_CREATE and flags & rtnl.NLM_F_ACK
    family, plen, _, _, index = rtnl._IFADDRMSG.unpack_from(m, 16)
    assert (family, plen, index) == (socket.AF_INET, 32, 7)
    assert m.count(ipaddress.IPv4Address("203.0.113.20").packed) == 2
    d = rtnl._message("del", 7, "203.0.113.20/32", 4)
    assert rtnl._NLMSGHDR.unpack_from(d)[1] == rtnl.RTM_DELADDR
    with pytest.raises(ValueError):
        rtnl._message("replace", 7, "203.0.113.20/32", 5)


def test_namespace_thread_runs_calls_in_one_thread():
    if os.geteuid() != 0:
        pytest.skip("setns needs CAP_SYS_ADMIN")
    # our own namespace: joining it changes nothing
    threads = netns_thread.NamespaceThreads("/proc/self/ns")
    first = threads.call("net", threading.get_ident)
    assert threads.call("net", threading.get_ident) == first
    assert first != threading.get_ident()

    def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        threads.call("net", boom)
    assert threads.call("net", lambda: 42) == 42  # still serving
    threads.drop("net")
    assert len(threads) == 0


def test_namespace_thread_resources_closed_at_its_end():
    if os.geteuid() != 0:
        pytest.skip("setns needs CAP_SYS_ADMIN")
    closed = []

    class Res:
        def close(self):
            closed.append(self)

    threads = netns_thread.NamespaceThreads("/proc/self/ns")
    a = threads.call("net", netns_thread.resource, "r", Res)
    assert threads.call("net", netns_thread.resource, "r", Res) is a
    threads.drop("net")
    assert closed == [a]


def test_not_a_namespace_is_unavailable(tmp_path):
    (tmp_path / "file").touch()
    threads = netns_thread.NamespaceThreads(str(tmp_path))
    with pytest.raises(netns_thread.Unavailable):
        threads.call("missing", lambda: None)
    with pytest.raises(netns_thread.Unavailable):
        threads.call("file", lambda: None)  # setns refuses a plain file


class FakeInProcess:
    def __init__(self, unavailable=False):
        self.calls = []
        self.unavailable = unavailable

    def _do(self, *call):
        if self.unavailable:
            raise netns_thread.Unavailable("no")
        self.calls.append(call)

    def nft(self, ns, text):
        self._do("nft", ns, text)

    def addresses(self, ns, verb, dev, cidrs):
        self._do("addr", ns, verb, dev, *cidrs)

    def announce(self, ns, dev, ips):
        self._do("arp", ns, dev, *ips)

    def cut_flows(self, ns, ips):
        self._do("cut", ns, *ips)

    def drop(self, ns):
        self.calls.append(("drop", ns))


@pytest.fixture
def rec(monkeypatch, tmp_path):
    r = Recorder()
    monkeypatch.setattr(runner, "run", r.run)
    monkeypatch.setattr(netns, "NETNS_DIR", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name: f"/bin/{name}")
    return r


def _driver(tmp_path, fake) -> netns.NetnsRouterDriver:
    d = netns.NetnsRouterDriver(
        "hostns", "lab-", conf=conf(), in_process=False
    )
    d._inproc = fake
    d._applied["rt-abcd1234"] = base.parse_router(message(floating_ips=[]))
    (tmp_path / "lab-rt-abcd1234").touch()
    return d


def test_association_starts_no_process(rec, tmp_path):
    fake = FakeInProcess()
    d = _driver(tmp_path, fake)
    rec.calls.clear()
    d.apply(base.parse_router(message()))
    assert rec.calls == []
    ns = "lab-rt-abcd1234"
    assert fake.calls == [
        ("addr", ns, "add", "qg0", "203.0.113.20/32", "203.0.113.21/32"),
        (
            "nft",
            ns,
            netns_floating.map_changes(
                {}, {"203.0.113.20": "10.0.0.5", "203.0.113.21": "10.0.1.5"}
            ),
        ),
        ("arp", ns, "qg0", "203.0.113.20", "203.0.113.21"),
    ]
    # and back: elements out, flows cut, /32s out
    fake.calls.clear()
    d.apply(base.parse_router(message(floating_ips=[])))
    assert [c[0] for c in fake.calls] == ["nft", "cut", "addr"]
    assert fake.calls[1][2:] == ("203.0.113.20", "203.0.113.21")
    assert fake.calls[2][2:] == (
        "del",
        "qg0",
        "203.0.113.20/32",
        "203.0.113.21/32",
    )
    assert rec.calls == []
    d.remove("rt-abcd1234")
    assert ("drop", ns) in fake.calls


def test_unavailable_falls_back_to_commands(rec, tmp_path):
    d = _driver(tmp_path, FakeInProcess(unavailable=True))
    rec.calls.clear()
    d.apply(base.parse_router(message()))
    cmds = rec.commands()
    assert sorted(cmds[:2]) == ["ip -n lab-rt-abcd1234 -batch -", "nft -f -"]
    assert any("arping" in c for c in cmds)
    assert "rt-abcd1234" in d._applied


class FakeNetlink:
    """Answers a ctnetlink dump with `entries`, then acks each delete."""

    def __init__(self, entries):
        self.sent = []
        self.answers = [b"".join(entries) + _nlmsg(ctnl.NLMSG_DONE, 1, b"")]

    def send(self, data):
        self.sent.append(data)
        seq = ctnl._NLMSGHDR.unpack_from(data)[3]
        if seq > 1:
            self.answers.append(
                _nlmsg(ctnl.NLMSG_ERROR, seq, struct.pack("=i", 0))
            )

    def recv(self, size):
        return self.answers.pop(0)


def _nlmsg(kind, seq, body):
    return ctnl._NLMSGHDR.pack(16 + len(body), kind, 0, seq, 0) + body


def _nla(kind, payload):
    pad = b"\0" * (-len(payload) % 4)
    return ctnl._NLA.pack(4 + len(payload), kind) + payload + pad


def _tuple(kind, src, dst):
    ip = _nla(
        ctnl.CTA_TUPLE_IP | 0x8000,
        _nla(1, ipaddress.IPv4Address(src).packed)
        + _nla(2, ipaddress.IPv4Address(dst).packed),
    )
    return _nla(kind | 0x8000, ip)


def _entry(orig, reply):
    body = ctnl._NFGENMSG.pack(socket.AF_INET, 0, 0)
    body += _tuple(ctnl.CTA_TUPLE_ORIG, *orig)
    body += _tuple(ctnl.CTA_TUPLE_REPLY, *reply)
    return _nlmsg(ctnl.NFNL_SUBSYS_CTNETLINK << 8, 1, body)


def test_conntrack_entries_to_a_floating_ip_in_either_direction():
    into = _entry(
        ("198.51.100.7", "203.0.113.20"), ("10.0.0.5", "198.51.100.7")
    )
    out = _entry(
        ("10.0.0.5", "198.51.100.7"), ("198.51.100.7", "203.0.113.20")
    )
    other = _entry(
        ("10.0.0.6", "198.51.100.7"), ("198.51.100.7", "203.0.113.10")
    )
    s = FakeNetlink([into, out, other])
    entries = list(ctnl._dump(s))
    assert len(entries) == 3
    want = ipaddress.IPv4Address("203.0.113.20").packed
    doomed = [orig for orig, dsts in entries if want in dsts]
    assert len(doomed) == 2
    for seq, orig in enumerate(doomed, 2):
        s.send(
            ctnl._request(ctnl.IPCTNL_MSG_CT_DELETE, ctnl.NLM_F_ACK, seq, orig)
        )
        ctnl._ack(s, seq)
    # each delete names the entry by its original tuple
    assert s.sent[1].endswith(doomed[0]) and s.sent[2].endswith(doomed[1])


def test_a_stuck_call_is_left_behind(monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("setns needs CAP_SYS_ADMIN")
    threads = netns_thread.NamespaceThreads("/proc/self/ns")
    release = threading.Event()
    first = threads.call("net", threading.get_ident)
    with pytest.raises(netns_thread.Stuck):
        threads.call("net", release.wait, timeout=0.2)
    # the next call gets a thread of its own
    assert threads.call("net", threading.get_ident) != first
    release.set()
    threads.drop("net")
