"""Long-lived TCP connections between guests, to see them live or be cut.

The client sends a line, waits for its echo (1.5 s at most), prints "ok N"
and goes again; when an echo does not come it prints "cut" and ends. With
a push server the client only reads what the server sends on its own, so
the server's side speaks first after a cut.
"""

import subprocess
import sys
import threading

ECHO_SERVER = """
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen()
print("listening", flush=True)
def serve(c):
    with c:
        while data := c.recv(4096):
            c.sendall(data)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

PUSH_SERVER = """
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen()
print("listening", flush=True)
def serve(c):
    with c:
        try:
            while True:
                c.sendall(b"tick\\n")
                threading.Event().wait(0.05)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

CLIENT = """
import socket, sys, threading
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.settimeout(1.5)
n = 0
while True:
    try:
        if sys.argv[3] == "echo":
            s.sendall(b"ping\\n")
        if not s.recv(64):
            print("closed", flush=True)
            break
    except OSError as e:
        print("cut", type(e).__name__, flush=True)
        break
    n += 1
    print("ok", n, flush=True)
    if sys.argv[3] == "echo":
        threading.Event().wait(0.05)  # pace: about 20 round trips a second
"""


def echo_server(
    spawn, ns: str, port: int, *, push: bool = False
) -> subprocess.Popen:
    script = PUSH_SERVER if push else ECHO_SERVER
    p = spawn(ns, sys.executable, "-c", script, str(port), text=True)
    assert p.stdout.readline().strip() == "listening"
    return p


class Stream:
    """A client connection whose progress the test can watch."""

    def __init__(
        self, spawn, ns: str, ip: str, port: int, *, push: bool = False
    ):
        self.proc = spawn(
            ns,
            sys.executable,
            "-c",
            CLIENT,
            ip,
            str(port),
            "read" if push else "echo",
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    @property
    def count(self) -> int:
        oks = [line for line in self.lines if line.startswith("ok ")]
        return int(oks[-1].split()[1]) if oks else 0

    @property
    def cut(self) -> bool:
        return any(line.startswith(("cut", "closed")) for line in self.lines)
