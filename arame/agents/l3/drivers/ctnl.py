"""Connection tracking entries deleted with ctnetlink, from the calling
thread's network namespace: what `conntrack -D --orig-dst IP` and
`conntrack -D --reply-dst IP` do for a floating IP going, without two
processes (netns_thread runs it inside the router's namespace).

One dump of the namespace's table (a router's own flows only), then one
delete per entry by its original tuple, as conntrack(8) does; an entry
gone meanwhile (ENOENT) is what was wanted.
"""

import errno
import ipaddress
import socket
import struct

from arame.agents.l3.drivers import netlink
from arame.agents.l3.drivers.netlink import HEADER as _NLMSGHDR
from arame.agents.l3.drivers.netlink import (  # noqa: F401 (tests, callers)
    NLM_F_ACK,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    NetlinkError,
)

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_NEW = 0
IPCTNL_MSG_CT_GET = 1
IPCTNL_MSG_CT_DELETE = 2
NLM_F_DUMP = 0x300
CTA_TUPLE_ORIG = 1
CTA_TUPLE_REPLY = 2
CTA_TUPLE_IP = 1
CTA_IP_V4_DST = 2
NLA_TYPE_MASK = 0x3FFF
_NFGENMSG = struct.Struct("=BBH")
_NLA = struct.Struct("=HH")


def cut_flows(ips: list[str]) -> int:
    """Every entry whose original or reply destination is one of `ips`
    deleted; how many."""
    want = {ipaddress.IPv4Address(ip).packed for ip in ips}
    if not want:
        return 0
    with socket.socket(
        socket.AF_NETLINK,
        socket.SOCK_RAW | socket.SOCK_CLOEXEC,
        NETLINK_NETFILTER,
    ) as s:
        s.bind((0, 0))
        doomed = [
            orig
            for orig, dsts in _dump(s)
            if dsts & want  # either direction's destination
        ]
        for seq, orig in enumerate(doomed, 2):
            s.send(_request(IPCTNL_MSG_CT_DELETE, NLM_F_ACK, seq, orig))
            _ack(s, seq)
    return len(doomed)


def _request(kind: int, flags: int, seq: int, attrs: bytes = b"") -> bytes:
    return netlink.message(
        (NFNL_SUBSYS_CTNETLINK << 8) | kind,
        NLM_F_REQUEST | flags,
        seq,
        _NFGENMSG.pack(socket.AF_INET, 0, 0) + attrs,
    )


def _attrs(data: bytes, off: int = 0, end: int | None = None):
    """(type, payload, the whole attribute) of each attribute."""
    end = len(data) if end is None else end
    while off + _NLA.size <= end:
        length, kind = _NLA.unpack_from(data, off)
        if length < _NLA.size:
            return
        yield (
            kind & NLA_TYPE_MASK,
            data[off + _NLA.size : off + length],
            data[off : off + length],
        )
        off += (length + 3) & ~3


def _destination(tuple_payload: bytes) -> bytes | None:
    for kind, payload, _ in _attrs(tuple_payload):
        if kind == CTA_TUPLE_IP:
            for k, p, _ in _attrs(payload):
                if k == CTA_IP_V4_DST:
                    return p
    return None


def _dump(s: socket.socket):
    """(the original tuple attribute, {its and the reply's destination})
    of each entry."""
    s.send(_request(IPCTNL_MSG_CT_GET, NLM_F_DUMP, 1))
    while True:
        data = s.recv(1 << 20)
        for off, length, kind, _ in netlink.walk(data):
            if kind == NLMSG_DONE:
                return
            if kind == NLMSG_ERROR:
                netlink.raise_for(
                    netlink.error_code(data, off), "conntrack dump"
                )
            elif kind & 0xFF == IPCTNL_MSG_CT_NEW:
                start = off + _NLMSGHDR.size + _NFGENMSG.size
                orig, dsts = None, set()
                for k, payload, whole in _attrs(data, start, off + length):
                    if k in (CTA_TUPLE_ORIG, CTA_TUPLE_REPLY):
                        dst = _destination(payload)
                        if dst:
                            dsts.add(dst)
                        if k == CTA_TUPLE_ORIG:
                            orig = whole
                if orig is not None:
                    yield orig, dsts


def _ack(s: socket.socket, seq: int) -> None:
    netlink.wait_ack(s, seq, "conntrack delete", ok=(0, errno.ENOENT))
