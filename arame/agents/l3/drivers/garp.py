"""A gratuitous ARP from the calling thread's network namespace: what
`arping -U -c 1 -I <dev> -s <ip> <ip>` sends, without a process: an ARP
request for the address from the address, to the broadcast MAC, so that
the upstream router's neighbour cache takes the link's MAC now.

Raw sockets need CAP_NET_RAW, which the agent has (it runs `ip` as
root); the netns thread runs this inside the router's namespace.
"""

import fcntl
import ipaddress
import socket
import struct

ETH_P_ARP = 0x0806
SIOCGIFHWADDR = 0x8927
_BROADCAST = b"\xff" * 6


def frame(mac: bytes, ip: str) -> bytes:
    addr = ipaddress.IPv4Address(ip).packed
    header = _BROADCAST + mac + struct.pack("!H", ETH_P_ARP)
    # Ethernet, IPv4, 6-byte MACs, 4-byte addresses, a request
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
    return header + arp + mac + addr + b"\x00" * 6 + addr


def open_socket() -> socket.socket:
    """A raw packet socket for announcements. Protocol 0: it receives
    nothing. Kept open by its caller: closing one waits for an RCU grace
    period in the kernel (~15 ms), longer than the rest of an
    association."""
    return socket.socket(
        socket.AF_PACKET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0
    )


def announce(s: socket.socket, dev: str, ips: list[str]) -> None:
    """One gratuitous ARP per address, from `dev` (its MAC read now: the
    link may have been made again since the last announcement)."""
    if not ips:
        return
    request = struct.pack("16sH14s", dev.encode(), 0, b"")
    mac = fcntl.ioctl(s.fileno(), SIOCGIFHWADDR, request)[18:24]
    for ip in ips:
        s.sendto(frame(mac, ip), (dev, 0))
