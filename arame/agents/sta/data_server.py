"""The storage node's image data endpoint: image bytes over HTTP, never
over the bus.

`PUT /images/<id>` with `Authorization: Ticket <t>` (or `?ticket=<t>`) and
a Content-Length: the ticket, signed by the API (arame.common.tickets),
names the image, this node, the size and the sha256; the body streams
through ImageReceiver.receive (bounded chunks, checked, then frozen).
Answers: 201 stored, 200 the image was already stored with these bytes,
403 bad ticket, 409 stored with other bytes, 411/400 no usable length,
422 the bytes do not match (nothing is left on the node).

The node tells the API where this endpoint is through its heartbeat
(`data_url`) and the RPC method `data_endpoint` (namespace `sta_data`),
which the API asks before each upload.
"""

import http.server
import json
import re
import threading
from urllib.parse import parse_qs, urlsplit

import oslo_messaging as messaging
from oslo_log import log

from arame.agents.sta import errors
from arame.agents.sta.images import ImageReceiver
from arame.agents.sta.rpcapi import DATA_NAMESPACE
from arame.common import exceptions, tickets

LOG = log.getLogger(__name__)

_PATH = re.compile(r"^/images/([a-z]+-[a-z0-9]+)$")


class _Bounded:
    """Exactly `length` bytes of the socket, then end of stream (reading
    past the body would wait for the next request on the connection)."""

    def __init__(self, raw, length: int):
        self.raw = raw
        self.left = length
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.raw.read(n)
        self.left -= len(data)
        self.consumed += len(data)
        return data


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        # The default logs the raw request line, ticket included.
        pass

    def _answer(self, status: int, body: dict, *, close: bool = False) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close:
            # The unread rest of the body must not be taken for a request.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._answer(
            status, {"error": {"code": code, "message": message}}, close=True
        )

    def do_GET(self):
        self._error(405, "method_not_allowed", "only PUT /images/<id>")

    def do_PUT(self):
        url = urlsplit(self.path)
        m = _PATH.match(url.path)
        if not m:
            return self._error(404, "not_found", "PUT /images/<image id>")
        image_id = m.group(1)
        length = self.headers.get("Content-Length")
        if length is None:
            return self._error(
                411, "length_required", "Content-Length is required"
            )
        if not length.isdigit():
            return self._error(400, "bad_request", "bad Content-Length")
        size = int(length)
        token = _ticket(self.headers.get("Authorization"), url.query)
        srv = self.server
        try:
            claims = tickets.verify(
                srv.secret,
                token or "",
                {"image_id": image_id, "node": srv.node, "size": size},
            )
        except tickets.TicketError as e:
            LOG.info("image %s: upload refused: %s", image_id, e)
            return self._error(403, "forbidden", str(e))
        body = _Bounded(self.rfile, size)
        try:
            image = srv.receiver.receive(
                image_id, body, size, claims.get("sha256")
            )
        except errors.ImageExists as e:
            return self._error(409, e.code, e.message)
        except exceptions.Invalid as e:
            LOG.info("image %s: upload refused: %s", image_id, e.message)
            return self._error(422, e.code, e.message)
        except Exception:
            LOG.exception("image %s: upload failed", image_id)
            return self._error(
                500,
                "storage_error",
                "the storage node could not store the image",
            )
        # The backend reads nothing when the image is already frozen with
        # these bytes: a repeated upload.
        if body.consumed == 0:
            return self._answer(200, image, close=body.left > 0)
        LOG.info("image %s: %d bytes stored", image_id, size)
        self._answer(201, image)


def _ticket(authorization: str | None, query: str) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "ticket":
            return value.strip()
    values = parse_qs(query).get("ticket")
    return values[0] if values else None


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Each upload is one thread; a stalled client gives up its slot when
    # the socket timeout (the handler's `timeout`) fires.
    request_queue_size = 16


class DataServer:
    """The endpoint as a daemon component (start/stop), in a thread of the
    sta process."""

    def __init__(
        self,
        receiver: ImageReceiver,
        *,
        node: str,
        secret: str,
        address: str,
        port: int,
        url: str | None = None,
        timeout: float = 60.0,
    ):
        self.receiver = receiver
        self.node = node
        self.secret = secret or ""
        self.address = address
        self.port = port
        self._url = url
        self.timeout = timeout
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._url:
            return self._url.rstrip("/")
        host = self.address
        if ":" in host:
            host = f"[{host}]"
        port = self._server.server_address[1] if self._server else self.port
        return f"http://{host}:{port}"

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"timeout": self.timeout})
        srv = _Server((self.address, self.port), handler)
        srv.receiver, srv.node, srv.secret = (
            self.receiver,
            self.node,
            self.secret,
        )
        self._server = srv
        # A short poll keeps stop() quick; the wake-ups cost nothing.
        self._thread = threading.Thread(
            target=srv.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sta-data",
            daemon=True,
        )
        self._thread.start()
        if not self.secret:
            LOG.warning(
                "[storage_data] ticket_secret is unset: every image "
                "upload will be refused"
            )
        LOG.info("image data endpoint at %s", self.url)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None


class DataEndpoint:
    """RPC endpoint (namespace sta_data): where this node takes image
    bytes. 1.0 - data_endpoint (client: rpcapi.DataEndpointAPI)"""

    target = messaging.Target(namespace=DATA_NAMESPACE, version="1.0")

    def __init__(self, server: DataServer):
        self._server = server

    def data_endpoint(self, ctxt) -> dict:
        return {"url": self._server.url}
