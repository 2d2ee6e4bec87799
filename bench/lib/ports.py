"""Free TCP ports on 127.0.0.1."""

import socket


def free_port() -> int:
    """Never 9001: the API's default port, the one tools/single-host's
    deployment listens on."""
    for _ in range(20):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != 9001:
            return port
    raise RuntimeError("no free port")
