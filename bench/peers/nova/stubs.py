#!/usr/bin/env python3
"""Stub Neutron and Glance on 127.0.0.1 for the Nova peer (nova-peer.sh).

    stubs.py neutron|glance PORT LOGFILE

Nova needs both to boot and delete a server; the real services would add
their own processes and database work to Nova's side of the comparison,
and Arame's fake deployment has no counterpart for them, so two answers
from the standard library stand in (their CPU is still counted with
Nova's). Neutron answers every list with an empty collection (Nova's
delete asks GET /v2.0/ports?device_id=...); Glance serves one active image
and the v2 image schema python-glanceclient builds its model from.

Every request is counted into LOGFILE.counts.json (every 5 s and at
SIGTERM) so a run shows what Nova asked of them.
"""

import collections
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

UUID_RE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
# bench/lib/nova_load.py boots this image.
IMAGE_ID = "0b5c2f5e-5e1a-4b2a-9c1e-7e57ab1e0001"
IMAGE = {
    "id": IMAGE_ID,
    "name": "peer-stub-image",
    "status": "active",
    "visibility": "public",
    "protected": False,
    "os_hidden": False,
    "container_format": "bare",
    "disk_format": "raw",
    "size": 1048576,
    "virtual_size": 1048576,
    "min_disk": 0,
    "min_ram": 0,
    "checksum": "d41d8cd98f00b204e9800998ecf8427e",
    "os_hash_algo": "sha512",
    "os_hash_value": "0" * 128,
    "owner": "admin",
    "tags": [],
    "created_at": "2025-01-01T00:00:00Z",
    "updated_at": "2025-01-01T00:00:00Z",
    "file": f"/v2/images/{IMAGE_ID}/file",
    "schema": "/v2/schemas/image",
    "self": f"/v2/images/{IMAGE_ID}",
}
_ANY = ["null", "string", "integer", "boolean", "array", "object"]
IMAGE_SCHEMA = {
    "name": "image",
    "properties": {k: {"type": _ANY} for k in IMAGE},
    "additionalProperties": {"type": "string"},
    "links": [
        {"href": "{self}", "rel": "self"},
        {"href": "{file}", "rel": "enclosure"},
        {"href": "{schema}", "rel": "describedby"},
    ],
}
NEUTRON_404 = {
    "NeutronError": {"type": "NotFound", "message": "stub", "detail": ""}
}


def neutron_route(port: int, method: str, path: str) -> tuple[int, dict]:
    p = path.rstrip("/")
    if p == "":
        link = {"href": f"http://127.0.0.1:{port}/v2.0/", "rel": "self"}
        return 200, {
            "versions": [{"id": "v2.0", "status": "CURRENT", "links": [link]}]
        }
    if p == "/v2.0":
        return 200, {"resources": []}
    if p == "/v2.0/extensions":
        return 200, {"extensions": []}
    rest = p[len("/v2.0/") :]
    if method == "GET" and p.startswith("/v2.0/") and "/" not in rest:
        return 200, {rest.replace("-", "_"): []}
    return 404, NEUTRON_404


def glance_route(port: int, method: str, path: str) -> tuple[int, dict]:
    p = path.rstrip("/")
    if p in ("", "/versions"):
        link = {"href": f"http://127.0.0.1:{port}/v2/", "rel": "self"}
        return 200, {
            "versions": [{"id": "v2.16", "status": "CURRENT", "links": [link]}]
        }
    if p == "/v2/schemas/image":
        return 200, IMAGE_SCHEMA
    if method == "GET" and p == f"/v2/images/{IMAGE_ID}":
        return 200, IMAGE
    if method == "GET" and p == "/v2/images":
        return 200, {
            "images": [IMAGE],
            "schema": "/v2/schemas/images",
            "first": "/v2/images",
        }
    return 404, {"code": 404, "title": "Not Found", "message": "stub"}


class Stub:
    """One service's routes, its request counts and its log."""

    def __init__(self, kind: str, port: int, log_path: str):
        self.kind = kind
        self.port = port
        self.route = neutron_route if kind == "neutron" else glance_route
        self.counts: collections.Counter = collections.Counter()
        self.lock = threading.Lock()
        self.log_path = log_path
        self.log = open(log_path, "a", buffering=1)

    def handle(self, method: str, raw_path: str) -> tuple[int, bytes]:
        path = urlparse(raw_path).path
        code, body = self.route(self.port, method, path)
        with self.lock:
            self.counts[f"{method} {UUID_RE.sub('{id}', path)} {code}"] += 1
        # The ports lookups of every delete would drown the log.
        if code != 200 or not (
            self.kind == "glance" or path.startswith("/v2.0/ports")
        ):
            stamp = time.strftime("%H:%M:%S")
            self.log.write(f"{stamp} {method} {raw_path} -> {code}\n")
        return code, json.dumps(body).encode()

    def dump(self) -> None:
        with self.lock:
            counts = dict(self.counts)
        tmp = self.log_path + ".counts.json.tmp"
        with open(tmp, "w") as f:
            json.dump(counts, f, indent=1, sort_keys=True)
        os.replace(tmp, self.log_path + ".counts.json")


def handler_for(stub: Stub) -> type:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as Nova's clients expect of the real services.
        protocol_version = "HTTP/1.1"

        def _do(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            code, data = stub.handle(self.command, self.path)
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _do

        def log_message(self, *args) -> None:
            pass  # Stub.handle logs what is worth reading

    return Handler


def main(argv: list[str]) -> None:
    kind, port, log_path = argv[0], int(argv[1]), argv[2]
    stub = Stub(kind, port, log_path)
    srv = ThreadingHTTPServer(("127.0.0.1", port), handler_for(stub))
    srv.daemon_threads = True

    def stop(*_):
        stub.dump()
        os._exit(0)

    def dumper():
        while True:
            time.sleep(5)
            stub.dump()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=dumper, daemon=True).start()
    stub.log.write(f"stub {kind} listening on 127.0.0.1:{port}\n")
    srv.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
