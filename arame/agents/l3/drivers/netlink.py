"""The netlink framing rtnl.py and ctnl.py share: a message's header,
walking the messages of one read, and waiting for a request's ack."""

import os
import socket
import struct

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
HEADER = struct.Struct("=IHHII")  # length, type, flags, seq, pid


class NetlinkError(OSError):
    pass


def message(kind: int, flags: int, seq: int, body: bytes) -> bytes:
    return HEADER.pack(HEADER.size + len(body), kind, flags, seq, 0) + body


def walk(data: bytes):
    """(offset, length, type, seq) of each message of one read."""
    off = 0
    while off + HEADER.size <= len(data):
        length, kind, _, seq, _ = HEADER.unpack_from(data, off)
        if length < HEADER.size:
            return
        yield off, length, kind, seq
        off += (length + 3) & ~3


def error_code(data: bytes, off: int) -> int:
    """The errno an NLMSG_ERROR at `off` carries (0: an ack)."""
    (code,) = struct.unpack_from("=i", data, off + HEADER.size)
    return -code


def raise_for(code: int, what: str, ok=(0,)) -> None:
    if code not in ok:
        raise NetlinkError(code, f"{what}: {os.strerror(code)}")


def wait_ack(s: socket.socket, seq: int, what: str, ok=(0,)) -> None:
    """Read until the ack (or the refusal) of request `seq`; an errno in
    `ok` is what the caller wanted."""
    while True:
        data = s.recv(65536)
        for off, _, kind, got in walk(data):
            if kind == NLMSG_ERROR and got == seq:
                raise_for(error_code(data, off), what, ok)
                return
