"""IPv4 addresses added to and removed from a link with rtnetlink, from
the calling thread's network namespace: what `ip addr add|del` does for a
floating IP's /32, without a process (netns_thread runs it inside the
router's namespace).

Idempotent, unlike `ip`: an address already there is added, one not
there removed (the caller decided from the spec it last applied; the
kernel holding it already is what was wanted).
"""

import errno
import ipaddress
import socket
import struct

from arame.agents.l3.drivers import netlink
from arame.agents.l3.drivers.netlink import HEADER as _NLMSGHDR  # noqa: F401
from arame.agents.l3.drivers.netlink import (
    NLM_F_ACK,
    NLM_F_REQUEST,
    NetlinkError,  # noqa: F401 (what callers catch)
)

RTM_NEWADDR = 20
RTM_DELADDR = 21
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
IFA_ADDRESS = 1
IFA_LOCAL = 2
_IFADDRMSG = struct.Struct("=BBBBI")
_RTA = struct.Struct("=HH")
# What each verb tolerates: the state it makes is there already.
_FINE = {"add": errno.EEXIST, "del": errno.EADDRNOTAVAIL}


def change_addresses(verb: str, dev: str, cidrs: list[str]) -> None:
    """`verb` ("add" or "del") each of `cidrs` on `dev`, one netlink
    message each on one socket; the first refusal raised (NetlinkError)
    after the messages before it took effect."""
    if not cidrs:
        return
    index = socket.if_nametoindex(dev)
    with socket.socket(
        socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0
    ) as s:  # NETLINK_ROUTE
        s.bind((0, 0))
        for seq, cidr in enumerate(cidrs, 1):
            s.send(_message(verb, index, cidr, seq))
            netlink.wait_ack(
                s, seq, f"addr {verb} {cidr} dev {dev}", ok=(0, _FINE[verb])
            )


def _message(verb: str, index: int, cidr: str, seq: int) -> bytes:
    iface = ipaddress.IPv4Interface(cidr)
    packed = iface.ip.packed
    body = _IFADDRMSG.pack(
        socket.AF_INET, iface.network.prefixlen, 0, 0, index
    )
    for kind in (IFA_LOCAL, IFA_ADDRESS):
        body += _RTA.pack(_RTA.size + len(packed), kind) + packed
    if verb == "add":
        kind, flags = RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL
    elif verb == "del":
        kind, flags = RTM_DELADDR, 0
    else:
        raise ValueError(f"not a verb: {verb!r}")
    return netlink.message(kind, flags | NLM_F_REQUEST | NLM_F_ACK, seq, body)
