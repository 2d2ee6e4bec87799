"""A free port on loopback, for a daemon a test starts."""

import socket


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """Free now (TCP by default; SOCK_DGRAM for an IPMI endpoint); another
    run may take it before ours binds it, which the caller sees at once."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_port() -> int:
    """A free UDP port (an IPMI endpoint's)."""
    return free_port(socket.SOCK_DGRAM)
