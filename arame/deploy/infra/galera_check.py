"""HAProxy's health check for Galera nodes: is this node Synced?

One small process answers HTTP on one port per node: 200 when the node's
`wsrep_local_state` is 4 (Synced) and `wsrep_ready` is ON, 503 otherwise
(unreachable, joining, donor, or cut off in a non-primary component). It is
the `clustercheck` that OpenStack deployments run from xinetd, without
xinetd and without a process per check.

Why not HAProxy's `option mysql-check`: that only sees the server's
handshake. A node that is still receiving its state transfer, or that lost
the primary component and answers every statement with 1047 (WSREP has not
yet prepared node), passes it; HAProxy would send the writer's traffic
there. A query of the node's own status is what tells.

Run as `python -m arame.deploy.infra.galera_check [ADDRESS:]PORT=SOCKET
...` (address 127.0.0.1 unless given; a node's own address when HAProxy
runs on another host). It asks the node over its unix socket as root
(unix_socket authentication), so no password sits in HAProxy's
configuration.
"""

import http.server
import sys
import threading

_QUERY = (
    "SHOW GLOBAL STATUS WHERE Variable_name IN "
    "('wsrep_local_state', 'wsrep_ready')"
)


def _status(conn) -> dict:
    with conn.cursor() as c:
        c.execute(_QUERY)
        return dict(c.fetchall())


class Node:
    """One node's check over one kept connection: HAProxy asks every
    500 ms, and a new connection (handshake, authentication, a server
    thread) per check cost ~20 ms of CPU, far more than the query."""

    def __init__(self, socket_path: str, timeout: float = 1.0):
        self.socket_path = socket_path
        self.timeout = timeout
        self._conn = None
        self._lock = threading.Lock()

    def synced(self) -> bool:
        with self._lock:
            # A kept connection the node dropped (restart, kill) fails
            # once: a fresh one then says what the node is now.
            for fresh in (self._conn is None, True):
                try:
                    if fresh:
                        self._reconnect()
                    status = _status(self._conn)
                    break
                except Exception:
                    self._close()
                    if fresh:
                        return False
        return status.get("wsrep_local_state") == "4" and (
            status.get("wsrep_ready") == "ON"
        )

    def _reconnect(self) -> None:
        import pymysql

        self._close()
        self._conn = pymysql.connect(
            unix_socket=self.socket_path,
            user="root",
            connect_timeout=self.timeout,
            read_timeout=self.timeout,
            write_timeout=self.timeout,
        )

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None


def synced(socket_path: str, timeout: float = 1.0) -> bool:
    """One check on a connection of its own (tools and tests)."""
    node = Node(socket_path, timeout)
    try:
        return node.synced()
    finally:
        node._close()


def _handler(socket_path: str):
    node = Node(socket_path)

    class Check(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            ok = node.synced()
            body = b"synced\n" if ok else b"not synced\n"
            try:
                self.send_response(200 if ok else 503)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # a prober that only wanted the port open

        do_OPTIONS = do_GET  # noqa: N815

        def log_message(self, *args):
            pass  # two checks a second per node: no log line each

    return Check


def serve(pairs: list[tuple[tuple[str, int], str]]) -> None:
    servers = [
        http.server.ThreadingHTTPServer(address, _handler(sock))
        for address, sock in pairs
    ]
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def main(argv: list[str]) -> None:
    pairs = []
    for arg in argv:
        where, _, sock = arg.partition("=")
        host, _, port = where.rpartition(":")
        pairs.append(((host or "127.0.0.1", int(port)), sock))
    if not pairs:
        raise SystemExit("usage: galera_check [ADDRESS:]PORT=SOCKET ...")
    serve(pairs)


if __name__ == "__main__":
    main(sys.argv[1:])
