"""Flavors and image metadata."""

import sqlalchemy as sa

from arame.api import pagination, policy
from arame.common import exceptions, ids
from arame.common.db import engine as db_engine
from arame.common.db import models


def flavor_dict(f: models.Flavor) -> dict:
    return {"name": f.name, "provider": f.provider, "vcpus": f.vcpus,
            "memory_mb": f.memory_mb, "disk_gb": f.disk_gb}


def list_flavors(ctxt) -> dict:
    with db_engine.session() as s:
        rows = s.scalars(sa.select(models.Flavor)
                         .order_by(models.Flavor.vcpus,
                                   models.Flavor.memory_mb,
                                   models.Flavor.name)).all()
    return {"items": [flavor_dict(f) for f in rows], "next_marker": None}


def create_flavor(ctxt, req) -> dict:
    with db_engine.session() as s:
        if s.scalar(sa.select(models.Flavor.id)
                    .where(models.Flavor.name == req.name)):
            raise exceptions.Conflict(f"flavor {req.name!r} already exists")
        f = models.Flavor(**req.model_dump())
        s.add(f)
    return flavor_dict(f)


def delete_flavor(ctxt, name: str) -> None:
    with db_engine.session() as s:
        rc = s.execute(sa.delete(models.Flavor)
                       .where(models.Flavor.name == name)).rowcount
    if rc != 1:
        raise exceptions.NotFound(f"flavor {name!r} not found")


def image_dict(i: models.Image) -> dict:
    return {"id": i.id, "name": i.name, "account_id": i.account_id,
            "visibility": i.visibility, "format": i.format,
            "status": i.status, "status_reason": i.status_reason,
            "size_bytes": i.size_bytes, "sha256": i.sha256,
            "created_at": i.created_at, "updated_at": i.updated_at}


def _visible(ctxt):
    I = models.Image
    if ctxt.is_admin:
        return sa.true()
    return sa.or_(I.account_id == ctxt.account_id, I.visibility == "public")


def list_images(ctxt, *, name=None, status=None, limit=None, marker=None):
    I = models.Image
    stmt = sa.select(I).where(_visible(ctxt), I.status != "deleted")
    if name:
        stmt = stmt.where(pagination.name_filter(I.name, name))
    if status:
        stmt = stmt.where(I.status == status)
    with db_engine.session() as s:
        rows, nxt = pagination.page(s, stmt, I, marker, limit)
        return {"items": [image_dict(i) for i in rows], "next_marker": nxt}


def get_image(ctxt, image_id: str) -> dict:
    with db_engine.session() as s:
        img = s.get(models.Image, image_id) if ids.is_valid("image", image_id) else None
        if img is None or not (ctxt.is_admin or img.visibility == "public"
                               or img.account_id == ctxt.account_id):
            raise exceptions.NotFound(f"image {image_id} not found")
        policy.enforce(ctxt, "images:get")
        return image_dict(img)
