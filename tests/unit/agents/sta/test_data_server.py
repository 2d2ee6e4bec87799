"""The image data endpoint over real HTTP on loopback, in front of the
in-memory backend: tickets, lengths, checks, idempotence, and the RPC
method that tells the API where it listens."""

import hashlib
import socket

import httpx
import pytest

from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.data_server import DataEndpoint, DataServer
from arame.agents.sta.images import ImageReceiver
from arame.agents.sta.manager import RPCEndpoint, STAManager
from arame.agents.sta.rpcapi import DataEndpointAPI
from arame.agents.sta.targets.fake import FakeTarget
from arame.common import rpc, tickets

SECRET = "unit-test-secret"
NODE = "st1"
IMG = "img-data0001"


@pytest.fixture
def backend():
    return FakeBackend()


@pytest.fixture
def server(backend):
    ds = DataServer(
        ImageReceiver(backend, max_gb=1),
        node=NODE,
        secret=SECRET,
        address="127.0.0.1",
        port=0,
        timeout=5,
    )
    ds.start()
    yield ds
    ds.stop()


def ticket(
    image_id=IMG, size=0, sha=None, *, node=NODE, secret=SECRET, ttl=60
):
    return tickets.sign(
        secret,
        {"image_id": image_id, "node": node, "size": size, "sha256": sha},
        ttl,
    )


def put(server, data: bytes, *, image_id=IMG, tk=None, headers=None):
    sha = hashlib.sha256(data).hexdigest()
    tk = tk if tk is not None else ticket(image_id, len(data), sha)
    h = {"Authorization": f"Ticket {tk}"} if tk else {}
    h.update(headers or {})
    return httpx.put(
        f"{server.url}/images/{image_id}", content=data, headers=h, timeout=10
    )


def test_stores_then_a_repeat_is_200(server, backend):
    data = b"x" * 1000 + bytes(5000)
    r = put(server, data)
    assert r.status_code == 201, r.text
    sha = hashlib.sha256(data).hexdigest()
    assert r.json() == {"id": IMG, "size_bytes": 6000, "sha256": sha}
    assert backend.images[IMG].sha256 == sha
    r = put(server, data)
    assert r.status_code == 200, r.text
    assert r.json()["sha256"] == sha


def test_a_body_larger_than_one_chunk_streams_through(server, backend):
    data = (b"abc" * 1024 * 1024) + bytes(4 * 1024 * 1024) + b"end"
    chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    sha = hashlib.sha256(data).hexdigest()
    r = httpx.put(
        f"{server.url}/images/{IMG}",
        content=iter(chunks),
        headers={
            "Content-Length": str(len(data)),
            "Authorization": f"Ticket {ticket(IMG, len(data), sha)}",
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text
    assert backend.images[IMG].size_bytes == len(data)


def test_other_bytes_for_a_stored_image_is_409(server, backend):
    assert put(server, b"first").status_code == 201
    r = put(server, b"second")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "image_exists"


def test_wrong_sha256_is_422_and_nothing_is_kept(server, backend):
    data = b"some bytes"
    r = put(server, data, tk=ticket(IMG, len(data), "0" * 64))
    assert r.status_code == 422
    assert "sha256" in r.json()["error"]["message"]
    assert backend.images == {}
    # The image can be sent again, right.
    assert put(server, data).status_code == 201


def test_a_body_cut_short_is_422_and_nothing_is_kept(server, backend):
    data = b"y" * 100
    tk = ticket(IMG, 100, hashlib.sha256(data).hexdigest())
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(
            f"PUT /images/{IMG} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: 100\r\nAuthorization: Ticket {tk}\r\n"
            f"\r\n".encode()
            + data[:40]
        )
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 422"), answer
    assert b"got 40 bytes, 100 announced" in answer
    assert backend.images == {}


@pytest.mark.parametrize(
    "make",
    [
        lambda n, sha: ticket(IMG, n, sha, secret="another-secret"),
        lambda n, sha: ticket(IMG, n, sha, node="st2"),
        lambda n, sha: ticket("img-other001", n, sha),
        lambda n, sha: ticket(IMG, n + 1, sha),
        lambda n, sha: ticket(IMG, n, sha, ttl=-5),
        lambda n, sha: "garbage",
    ],
    ids=["secret", "node", "image", "size", "expired", "garbage"],
)
def test_a_ticket_for_anything_else_is_403(server, backend, make):
    data = b"payload"
    r = put(server, data, tk=make(len(data), hashlib.sha256(data).hexdigest()))
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"
    assert backend.images == {}


def test_no_ticket_is_403(server):
    assert put(server, b"abc", tk="").status_code == 403


def test_the_ticket_may_come_in_the_query(server, backend):
    data = b"query ticket"
    tk = ticket(IMG, len(data), hashlib.sha256(data).hexdigest())
    r = httpx.put(
        f"{server.url}/images/{IMG}", params={"ticket": tk}, content=data
    )
    assert r.status_code == 201, r.text


def test_an_unset_secret_refuses_everything(backend):
    ds = DataServer(
        ImageReceiver(backend, max_gb=1),
        node=NODE,
        secret="",
        address="127.0.0.1",
        port=0,
    )
    ds.start()
    try:
        r = put(ds, b"abc")
        assert r.status_code == 403
    finally:
        ds.stop()


def test_no_content_length_is_411(server):
    r = httpx.put(
        f"{server.url}/images/{IMG}",
        content=iter([b"a", b"b"]),
        headers={"Authorization": f"Ticket {ticket(IMG, 2)}"},
    )
    assert r.status_code == 411


def test_another_path_is_404_and_get_is_405(server):
    assert put(server, b"abc", image_id="../etc").status_code == 404
    assert httpx.get(f"{server.url}/images/{IMG}").status_code == 405


def test_a_malformed_image_id_in_a_signed_ticket_is_422(server, backend):
    data = b"abc"
    r = put(
        server,
        data,
        image_id="img-NOTVALID",
        tk=ticket("img-NOTVALID", 3, hashlib.sha256(data).hexdigest()),
    )
    assert r.status_code in (404, 422)
    assert backend.images == {}


def test_url_is_the_bound_port_or_the_configured_one(backend):
    ds = DataServer(
        ImageReceiver(backend, max_gb=1),
        node=NODE,
        secret=SECRET,
        address="127.0.0.1",
        port=0,
    )
    ds.start()
    try:
        assert ds.url == f"http://127.0.0.1:{ds._server.server_address[1]}"
    finally:
        ds.stop()
    assert (
        DataServer(
            None,
            node=NODE,
            secret=SECRET,
            address="::1",
            port=9,
            url="https://sta1.example/",
        ).url
        == "https://sta1.example"
    )
    assert (
        DataServer(None, node=NODE, secret=SECRET, address="::1", port=9).url
        == "http://[::1]:9"
    )


def test_the_url_is_asked_over_rpc_beside_the_manager(
    bus, config, server, backend
):
    """The sta's RPC server holds both endpoints; the namespace keeps the
    data endpoint's method apart from the manager's."""
    mgr = STAManager(backend, FakeTarget(), max_volume_gb=1, import_dirs=[])
    srv = rpc.get_server("sta", NODE, [RPCEndpoint(mgr), DataEndpoint(server)])
    srv.start()
    try:
        assert DataEndpointAPI().data_endpoint({}, NODE, timeout=5) == {
            "url": server.url
        }
    finally:
        srv.stop()
        srv.wait()
