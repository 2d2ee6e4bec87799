"""POST /v1/images and PUT /v1/images/{id}/data: the API streams the body
to a real data endpoint (HTTP on loopback, in-memory backend), found over
RPC (fake transport) on a storage node whose heartbeat is recent."""

import hashlib

import pytest
import sqlalchemy as sa

from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.data_server import DataEndpoint, DataServer
from arame.agents.sta.images import ImageReceiver
from arame.api.services import catalog
from arame.common import rpc
from arame.common.db import engine, models
from arame.common.db.services import write_service_heartbeat
from arame.common.heartbeat import service_record

SECRET = "api-unit-secret"
NODE = "st1"


@pytest.fixture
def backend():
    return FakeBackend()


@pytest.fixture
def node(client, config, backend):
    """A live storage node: heartbeat row, data endpoint, RPC server."""
    config("ticket_secret", SECRET, group="storage_data")
    with engine.session() as s:
        write_service_heartbeat(s, service_record("arame-sta", "sta", NODE))
    data = DataServer(
        ImageReceiver(backend, max_gb=1),
        node=NODE,
        secret=SECRET,
        address="127.0.0.1",
        port=0,
        timeout=5,
    )
    data.start()
    catalog._data_api = None
    srv = rpc.get_server("sta", NODE, [DataEndpoint(data)])
    srv.start()
    yield data
    srv.stop()
    srv.wait()
    data.stop()
    catalog._data_api = None


def new_image(client, caller, **body):
    body.setdefault("name", "disk-1")
    body.setdefault("format", "raw")
    r = client.post("/v1/images", json=body, headers=caller.headers)
    assert r.status_code == 201, r.text
    return r.json()


def upload(client, caller, image_id, data: bytes, sha=True, headers=None):
    h = dict(caller.headers)
    if sha is True:
        h["X-Image-Sha256"] = hashlib.sha256(data).hexdigest()
    elif sha:
        h["X-Image-Sha256"] = sha
    h.update(headers or {})
    return client.put(f"/v1/images/{image_id}/data", content=data, headers=h)


def image_row(image_id):
    with engine.session() as s:
        img = s.get(models.Image, image_id)
        locs = s.scalars(
            sa.select(models.ImageLocation.storage_node).where(
                models.ImageLocation.image_id == image_id
            )
        ).all()
        return img.status, img.status_reason, img.size_bytes, img.sha256, locs


# -- POST /v1/images -----------------------------------------------------------
def test_create_is_pending_and_private(client, member):
    img = new_image(client, member, size_bytes=10, sha256="a" * 64)
    assert img["status"] == "pending"
    assert (img["visibility"], img["account_id"]) == (
        "private",
        member.account_id,
    )
    assert img["id"].startswith("img-")
    assert (img["size_bytes"], img["sha256"]) == (10, "a" * 64)


def test_only_admin_creates_public_images(client, member, admin, error_of):
    r = client.post(
        "/v1/images",
        json={"name": "pub", "format": "raw", "visibility": "public"},
        headers=member.headers,
    )
    error_of(r, 403)
    assert (
        new_image(client, admin, visibility="public")["visibility"] == "public"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "format": "vmdk"},
        {"name": "..", "format": "raw"},
        {"name": "x", "format": "raw", "sha256": "XYZ"},
        {"name": "x", "format": "raw", "size_bytes": 0},
        {"name": "x", "format": "raw", "color": "red"},
    ],
)
def test_create_refuses_bad_bodies(client, member, error_of, body):
    error_of(client.post("/v1/images", json=body, headers=member.headers), 422)


def test_reader_cannot_create(client, make_user, error_of):
    reader = make_user("reader")
    r = client.post(
        "/v1/images",
        json={"name": "x", "format": "raw"},
        headers=reader.headers,
    )
    error_of(r, 403)


# -- PUT /v1/images/{id}/data --------------------------------------------------
def test_upload_makes_the_image_available_on_the_node(
    client, member, node, backend
):
    data = b"\x00" * 300_000 + b"bootable?" * 1000
    img = new_image(client, member)
    r = upload(client, member, img["id"], data)
    assert r.status_code == 200, r.text
    sha = hashlib.sha256(data).hexdigest()
    got = r.json()
    assert (got["status"], got["size_bytes"], got["sha256"]) == (
        "available",
        len(data),
        sha,
    )
    assert image_row(img["id"]) == ("available", None, len(data), sha, [NODE])
    assert backend.images[img["id"]].sha256 == sha
    # Now it takes no more data.
    r = upload(client, member, img["id"], data)
    assert r.status_code == 409


def test_image_bytes_pass_the_json_body_limit(
    client, member, node, backend, config
):
    """[api] max_request_body_bytes bounds JSON bodies; image bytes stream
    on to the node, bounded by [storage_data] max_image_bytes instead."""
    from arame.common.conf import CONF

    data = b"\x01" * (CONF.api.max_request_body_bytes + 4096)
    img = new_image(client, member)
    r = upload(client, member, img["id"], data)
    assert r.status_code == 200, r.text
    assert backend.images[img["id"]].sha256 == hashlib.sha256(data).hexdigest()


def test_sha256_given_at_create_is_enough(client, member, node, backend):
    data = b"known sha"
    img = new_image(
        client,
        member,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
    )
    r = upload(client, member, img["id"], data, sha=None)
    assert r.status_code == 200, r.text


def test_wrong_sha256_is_422_back_to_pending_nothing_kept_retry_works(
    client, member, node, backend, error_of
):
    data = b"the real bytes"
    img = new_image(client, member)
    err = error_of(upload(client, member, img["id"], data, sha="0" * 64), 422)
    assert "sha256" in err["message"]
    status, reason, *_, locs = image_row(img["id"])
    assert (status, locs) == ("pending", [])
    assert "sha256" in reason
    assert backend.images == {}
    assert upload(client, member, img["id"], data).status_code == 200


def test_size_other_than_announced_is_422(client, member, node, error_of):
    img = new_image(client, member, size_bytes=5)
    error_of(upload(client, member, img["id"], b"123456"), 422)
    assert image_row(img["id"])[0] == "pending"


def test_sha256_header_against_the_record(client, member, node, error_of):
    img = new_image(client, member, sha256="b" * 64)
    error_of(upload(client, member, img["id"], b"abc"), 422)
    error_of(upload(client, member, img["id"], b"abc", sha="not-hex"), 422)
    img2 = new_image(client, member)
    err = error_of(upload(client, member, img2["id"], b"abc", sha=None), 422)
    assert "X-Image-Sha256" in err["message"]


def test_too_large_is_413(client, member, node, config, error_of):
    config("max_image_bytes", 100, group="storage_data")
    img = new_image(client, member)
    error_of(upload(client, member, img["id"], b"x" * 101), 413, "too_large")
    assert image_row(img["id"])[0] == "pending"


def test_empty_is_422(client, member, node, error_of):
    img = new_image(client, member)
    error_of(upload(client, member, img["id"], b""), 422)


def test_no_content_length_is_411(client, member, node, error_of):
    img = new_image(client, member)
    r = client.put(
        f"/v1/images/{img['id']}/data",
        content=iter([b"a", b"b"]),
        headers={**member.headers, "X-Image-Sha256": "c" * 64},
    )
    error_of(r, 411, "length_required")


def test_another_accounts_image_is_404_and_reader_403(
    client, member, make_user, node, error_of
):
    img = new_image(client, member)
    other = make_user("member")
    error_of(upload(client, other, img["id"], b"abc"), 404)
    reader = make_user("reader", account_id=member.account_id)
    error_of(upload(client, reader, img["id"], b"abc"), 403)
    error_of(upload(client, member, "img-nothere1", b"abc"), 404)


def test_admin_uploads_to_any_image(client, member, admin, node):
    img = new_image(client, member)
    assert upload(client, admin, img["id"], b"by admin").status_code == 200


def test_no_live_node_is_503_and_image_stays_pending(
    client, member, config, error_of
):
    config("ticket_secret", SECRET, group="storage_data")
    img = new_image(client, member)
    err = error_of(upload(client, member, img["id"], b"abc"), 503)
    assert "storage node" in err["message"]
    assert image_row(img["id"])[0] == "pending"


def test_unreachable_data_endpoint_is_503_back_to_pending(
    client, member, node, error_of, monkeypatch
):
    img = new_image(client, member)
    # The node answers over RPC but its data endpoint is gone.
    node.stop()
    err = error_of(upload(client, member, img["id"], b"abc"), 503)
    assert NODE in err["message"]
    status, reason, *_ = image_row(img["id"])
    assert status == "pending" and reason


def test_node_silent_on_rpc_is_503(
    client, member, node, error_of, monkeypatch
):
    class Silent:
        def data_endpoint(self, ctxt, node, timeout):
            import oslo_messaging

            raise oslo_messaging.MessagingTimeout("no answer")

    monkeypatch.setattr(catalog, "_data_api", Silent())
    img = new_image(client, member)
    err = error_of(upload(client, member, img["id"], b"abc"), 503)
    assert "MessagingTimeout" in err["message"]
    assert image_row(img["id"])[0] == "pending"


def test_no_ticket_secret_is_503(client, member, node, config, error_of):
    config("ticket_secret", None, group="storage_data")
    img = new_image(client, member)
    error_of(upload(client, member, img["id"], b"abc"), 503)


def test_uploading_image_is_409_until_stale(client, member, node, error_of):
    import datetime as dt

    img = new_image(client, member)
    with engine.session() as s:
        s.execute(
            sa.update(models.Image)
            .where(models.Image.id == img["id"])
            .values(status="uploading")
        )
    error_of(upload(client, member, img["id"], b"abc"), 409)
    with engine.session() as s:
        s.execute(
            sa.update(models.Image)
            .where(models.Image.id == img["id"])
            .values(updated_at=models.utcnow() - dt.timedelta(hours=2))
        )
    assert upload(client, member, img["id"], b"abc").status_code == 200
