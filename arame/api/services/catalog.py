"""Flavors, image metadata, and image data streamed to a storage node."""

import dataclasses
import re

import httpx
import oslo_messaging as messaging
import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from arame.agents.sta import rpcapi as sta_rpcapi
from arame.api import lookup, pagination, policy, tags
from arame.api.errors import ServiceUnavailable
from arame.common import exceptions, ids, tickets
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models, services


def flavor_dict(f: models.Flavor) -> dict:
    return {
        "name": f.name,
        "provider": f.provider,
        "vcpus": f.vcpus,
        "memory_mb": f.memory_mb,
        "disk_gb": f.disk_gb,
    }


def list_flavors(ctxt) -> dict:
    with db_engine.session() as s:
        rows = s.scalars(
            sa.select(models.Flavor).order_by(
                models.Flavor.vcpus,
                models.Flavor.memory_mb,
                models.Flavor.name,
            )
        ).all()
    return {"items": [flavor_dict(f) for f in rows], "next_marker": None}


def create_flavor(ctxt, req) -> dict:
    with db_engine.session() as s:
        if s.scalar(
            sa.select(models.Flavor.id).where(models.Flavor.name == req.name)
        ):
            raise exceptions.Conflict(f"flavor {req.name!r} already exists")
        f = models.Flavor(**req.model_dump())
        s.add(f)
    return flavor_dict(f)


def delete_flavor(ctxt, name: str) -> None:
    with db_engine.session() as s:
        rc = s.execute(
            sa.delete(models.Flavor).where(models.Flavor.name == name)
        ).rowcount
    if rc != 1:
        raise exceptions.NotFound(f"flavor {name!r} not found")


def image_dict(i: models.Image, tag_list=()) -> dict:
    return {
        "id": i.id,
        "name": i.name,
        "account_id": i.account_id,
        "visibility": i.visibility,
        "format": i.format,
        "status": i.status,
        "status_reason": i.status_reason,
        "size_bytes": i.size_bytes,
        "sha256": i.sha256,
        "tags": list(tag_list),
        "created_at": i.created_at,
        "updated_at": i.updated_at,
    }


def _tagged(s, img: models.Image) -> dict:
    return image_dict(img, tags.tags_of(s, [img.id])[img.id])


def _visible(ctxt):
    I = models.Image
    if ctxt.is_admin:
        return sa.true()
    return sa.or_(I.account_id == ctxt.account_id, I.visibility == "public")


# A deleted image, and one whose bytes are being removed, is gone for its
# users (image_delete.py); `?status=deleting` still finds the latter.
GONE = ("deleting", "deleted")


def list_images(
    ctxt,
    *,
    name=None,
    status=None,
    limit=None,
    marker=None,
    sort=None,
    tag=None,
):
    I = models.Image
    stmt = sa.select(I).where(
        _visible(ctxt),
        I.status != "deleted"
        if status == "deleting"
        else I.status.not_in(GONE),
    )
    if name:
        stmt = stmt.where(pagination.name_filter(I.name, name))
    if status:
        stmt = stmt.where(I.status == status)
    if tag:
        stmt = tags.filter_by(stmt, I.id, tag)
    with db_engine.session() as s:
        rows, nxt = pagination.page(s, stmt, I, marker, limit, sort=sort)
        labels = tags.tags_of(s, [i.id for i in rows])
        return {
            "items": [image_dict(i, labels[i.id]) for i in rows],
            "next_marker": nxt,
        }


def get_image(ctxt, image_id: str) -> dict:
    with db_engine.session() as s:
        img = (
            s.get(models.Image, image_id)
            if ids.is_valid("image", image_id)
            else None
        )
        if (
            img is None
            or img.status in GONE
            or not (
                ctxt.is_admin
                or img.visibility == "public"
                or img.account_id == ctxt.account_id
            )
        ):
            raise exceptions.NotFound(f"image {image_id} not found")
        policy.enforce(ctxt, "images:get")
        return _tagged(s, img)


# -- image metadata ------------------------------------------------------------
def create_image(ctxt, req) -> dict:
    """The image record, `pending` until its bytes are uploaded."""
    if req.visibility == "public":
        policy.enforce(ctxt, "images:create_public")
    img = models.Image(
        id=ids.generate("image"),
        name=req.name,
        account_id=ctxt.account_id,
        visibility=req.visibility,
        format=req.format,
        status="pending",
        size_bytes=req.size_bytes,
        sha256=req.sha256,
    )
    with db_engine.session() as s:
        s.add(img)
        s.flush()
        return image_dict(img, tags.tag_new(s, img.id, req.tags))


# -- image data: PUT /v1/images/{id}/data --------------------------------------
# The API streams the request body to one storage node's data endpoint
# (arame/agents/sta/data_server.py) with a signed ticket; the node checks
# the size and sha256 and freezes the image. The body is never held here
# whole, and never goes over the bus.

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class LengthRequired(exceptions.ArameError):
    """The upload needs a Content-Length (the image's size)."""

    status, code = 411, "length_required"


@dataclasses.dataclass(frozen=True)
class Upload:
    image_id: str
    size: int
    sha256: str
    node: str
    url: str
    ticket: str


_data_api = None


def data_api():
    global _data_api
    if _data_api is None:
        _data_api = sta_rpcapi.DataEndpointAPI()
    return _data_api


async def upload_image(ctxt, image_id: str, headers, body) -> dict:
    """Stream `body` (an async iterator of bytes) to a storage node; the
    image ends `available`, or back in `pending` with nothing stored."""
    up = await run_in_threadpool(_begin_upload, ctxt, image_id, headers)
    try:
        status, answer = await _send(up, body)
    except BaseException as e:
        await run_in_threadpool(_give_back, up, f"upload interrupted: {e!r}")
        if isinstance(e, ClientDisconnect):
            # Nobody reads this answer; it keeps a traceback out of the log.
            raise exceptions.BadRequest(
                "the client went away mid-upload"
            ) from e
        if isinstance(e, httpx.TransportError):
            raise ServiceUnavailable(
                f"storage node {up.node} did not take the image: "
                f"{type(e).__name__}"
            ) from e
        raise
    if status in (200, 201):
        return await run_in_threadpool(_finish, up)
    message = _message(answer) or f"answered {status}"
    await run_in_threadpool(_give_back, up, message)
    if status == 422:
        raise exceptions.Invalid(f"image {image_id}: {message}")
    if status == 409:
        raise exceptions.Conflict(f"image {image_id}: {message}")
    raise ServiceUnavailable(
        f"storage node {up.node} refused the image: {message}"
    )


def _begin_upload(ctxt, image_id: str, headers) -> Upload:
    size = _content_length(headers)
    with db_engine.session() as s:
        img = lookup.load_owned(
            s, ctxt, models.Image, "image", image_id, "images:upload"
        )
        if img.status != "pending" and not stale_upload(img):
            raise exceptions.Conflict(
                f"image {image_id} is {img.status}: only a pending image "
                f"takes data"
            )
        sha = _sha256(img, headers.get("x-image-sha256"))
        if img.size_bytes is not None and img.size_bytes != size:
            raise exceptions.Invalid(
                f"the body is {size} bytes, the image is {img.size_bytes}",
                size_bytes=img.size_bytes,
            )
        prior = img.status
        nodes = _candidate_nodes(s, image_id)
    node, url = _data_endpoint(ctxt, nodes)
    with db_engine.session() as s:
        # The claim: one upload at a time per image.
        I = models.Image
        rc = s.execute(
            sa.update(I)
            .where(
                I.id == image_id,
                I.status == prior,
                I.updated_at == img.updated_at,
            )
            .values(
                status="uploading",
                status_reason=None,
                updated_at=models.utcnow(),
            )
        ).rowcount
    if rc != 1:
        raise exceptions.Conflict(f"image {image_id} is being uploaded")
    ticket = tickets.sign(
        CONF.storage_data.ticket_secret,
        {"image_id": image_id, "node": node, "size": size, "sha256": sha},
        CONF.storage_data.ticket_ttl,
    )
    return Upload(image_id, size, sha, node, url, ticket)


def _content_length(headers) -> int:
    raw = headers.get("content-length")
    if raw is None or headers.get("transfer-encoding"):
        raise LengthRequired("Content-Length is required: the image's size")
    if not raw.isdigit():
        raise exceptions.BadRequest("bad Content-Length")
    size = int(raw)
    if size == 0:
        raise exceptions.Invalid("the image is empty")
    limit = CONF.storage_data.max_image_bytes
    if size > limit:
        raise exceptions.TooLarge(
            f"the image is larger than {limit} bytes", limit=limit
        )
    return size


def _sha256(img: models.Image, given: str | None) -> str:
    if given is not None and not _SHA256.match(given):
        raise exceptions.Invalid(
            "X-Image-Sha256 must be 64 lowercase hex digits"
        )
    if img.sha256 and given and img.sha256 != given:
        raise exceptions.Invalid(
            f"X-Image-Sha256 {given} is not the image's sha256 {img.sha256}"
        )
    sha = img.sha256 or given
    if not sha:
        # The node checks the bytes against it before it freezes them.
        raise exceptions.Invalid(
            "the image's sha256 is unknown: give it at "
            "create or send X-Image-Sha256"
        )
    return sha


def stale_upload(img: models.Image) -> bool:
    """An upload the API never finished (it died mid-stream)."""
    age = (models.utcnow() - img.updated_at).total_seconds()
    return (
        img.status == "uploading"
        and age > CONF.storage_data.stale_upload_seconds
    )


def _candidate_nodes(s, image_id: str) -> list[str]:
    """Live storage nodes, those holding the fewest images first."""
    nodes = services.live_hosts(s, sta_rpcapi.BINARY)
    if not nodes:
        raise ServiceUnavailable(
            f"no storage node ({sta_rpcapi.BINARY}) is up"
        )
    IL = models.ImageLocation
    held = dict(
        s.execute(
            sa.select(IL.storage_node, sa.func.count())
            .where(IL.storage_node.in_(nodes))
            .group_by(IL.storage_node)
        ).all()
    )
    return sorted(nodes, key=lambda n: (held.get(n, 0), n))


def _data_endpoint(ctxt, nodes: list[str]) -> tuple[str, str]:
    """The first node that says where its data endpoint is."""
    if not CONF.storage_data.ticket_secret:
        raise ServiceUnavailable(
            "image upload is not configured ([storage_data] ticket_secret)"
        )
    errors = []
    for node in nodes:
        try:
            url = data_api().data_endpoint(ctxt, node, timeout=10)["url"]
        except (messaging.MessagingException, KeyError, TypeError) as e:
            errors.append(f"{node}: {type(e).__name__}")
            continue
        return node, url
    raise ServiceUnavailable("no storage node answered: " + ", ".join(errors))


async def _send(up: Upload, body) -> tuple[int, dict]:
    timeout = httpx.Timeout(CONF.storage_data.node_timeout)
    async with httpx.AsyncClient(timeout=timeout) as http:
        r = await http.put(
            f"{up.url}/images/{up.image_id}",
            content=body,
            headers={
                "Content-Length": str(up.size),
                "Authorization": f"Ticket {up.ticket}",
                "Content-Type": "application/octet-stream",
            },
        )
    try:
        answer = r.json()
    except ValueError:
        answer = {}
    return r.status_code, answer if isinstance(answer, dict) else {}


def _message(answer: dict) -> str | None:
    err = answer.get("error")
    return err.get("message") if isinstance(err, dict) else None


def _finish(up: Upload) -> dict:
    with db_engine.session() as s:
        I, IL = models.Image, models.ImageLocation
        s.execute(
            sa.update(I)
            .where(I.id == up.image_id, I.status == "uploading")
            .values(
                status="available",
                status_reason=None,
                size_bytes=up.size,
                sha256=up.sha256,
                updated_at=models.utcnow(),
            )
        )
        if s.get(IL, (up.image_id, up.node)) is None:
            s.add(IL(image_id=up.image_id, storage_node=up.node))
        s.flush()
        return _tagged(s, s.get(I, up.image_id))


def _give_back(up: Upload, reason: str) -> None:
    """Back to pending: the node kept nothing, the user may try again."""
    with db_engine.session() as s:
        I = models.Image
        s.execute(
            sa.update(I)
            .where(I.id == up.image_id, I.status == "uploading")
            .values(
                status="pending",
                status_reason=reason[:255],
                updated_at=models.utcnow(),
            )
        )
