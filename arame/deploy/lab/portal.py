"""TCP forwarding between network namespaces: how the lab's hosts reach the
machine's RabbitMQ and MariaDB, and how this machine reaches the lab's API.

The broker and the database listen on this machine's loopback (and are
shared with every other run here: the lab must not reconfigure them). On a
real install they run on the controller; so the portal listens on the
controller's management address, inside its namespace, and connects from
this machine's loopback, where the broker's `guest` user and the
database's per-deployment user are allowed in. The other way, it listens
on this machine's 127.0.0.1:9001 and connects to the API on the
controller's management address.

A socket belongs to the namespace its thread was in when it was made;
setns(2) changes only the calling thread's, so each socket is made
between a setns into its namespace and one back.

`python -m arame.deploy.lab.portal SPEC...`, SPEC being
`LISTEN_NS:ADDR:PORT=CONNECT_NS:ADDR:PORT` (`-` for this machine's
namespace).
"""

import contextlib
import ctypes
import os
import signal
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def in_netns(name: str):
    """The calling thread in namespace `name` ("-": as it is)."""
    if name == "-":
        yield
        return
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)


def parse(spec: str):
    listen, _, connect = spec.partition("=")

    def endpoint(text):
        ns, addr, port = text.rsplit(":", 2)
        return ns, addr, int(port)

    return endpoint(listen), endpoint(connect)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        # The other direction may still be talking: half-close, then let
        # the last pump close both.
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def _serve(listener: socket.socket, connect) -> None:
    ns, addr, port = connect
    while True:
        client, _ = listener.accept()
        try:
            with in_netns(ns):
                upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            upstream.settimeout(10)
            upstream.connect((addr, port))
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threads = [
            threading.Thread(
                target=_pump, args=(client, upstream), daemon=True
            ),
            threading.Thread(
                target=_pump, args=(upstream, client), daemon=True
            ),
        ]
        for t in threads:
            t.start()
        threading.Thread(
            target=_close_after, args=(threads, client, upstream), daemon=True
        ).start()


def _close_after(threads, *socks) -> None:
    for t in threads:
        t.join()
    for s in socks:
        s.close()


def listen(listen_ep) -> socket.socket:
    ns, addr, port = listen_ep
    with in_netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(128)
    return s


def main(argv=None) -> int:
    specs = sys.argv[1:] if argv is None else argv
    if not specs:
        print(__doc__, file=sys.stderr)
        return 2
    # Every listener first: a port taken is an error at start, not later.
    pairs = [(listen(lst), conn) for lst, conn in map(parse, specs)]
    for listener, conn in pairs:
        threading.Thread(
            target=_serve, args=(listener, conn), daemon=True
        ).start()
    print(f"portal: {len(pairs)} forwards", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
