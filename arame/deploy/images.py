"""Putting image bytes where the hypervisor reads them, until a storage node
serves images: `<image store>/<image id>/data`, copied atomically, with the
size and sha256 the record must carry (the hva checks both on fetch)."""

import hashlib
import os
import shutil
import tempfile

import sqlalchemy as sa

from arame.common import ids
from arame.common.db import engine as db_engine
from arame.common.db import models


def install(store_path: str, image_id: str, source: str) -> dict:
    if not ids.is_valid("image", image_id):
        raise ValueError(f"not an image id: {image_id!r}")
    target_dir = os.path.join(store_path, image_id)
    os.makedirs(target_dir, mode=0o755, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".data-")
    try:
        with os.fdopen(fd, "wb") as dst, open(source, "rb") as src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                dst.write(chunk)
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(target_dir, "data"))
    except BaseException:
        os.unlink(tmp)
        raise
    return {"size_bytes": size, "sha256": digest.hexdigest()}


def stage_for_storage(import_dir: str, image_id: str, source: str) -> str:
    """Put a raw image where a storage node imports it from
    (`<import dir>/<image id>.raw`), atomically; sparse stays sparse."""
    if not ids.is_valid("image", image_id):
        raise ValueError(f"not an image id: {image_id!r}")
    os.makedirs(import_dir, mode=0o755, exist_ok=True)
    target = os.path.join(import_dir, f"{image_id}.raw")
    tmp = target + ".part"
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target


def install_and_record(store_path: str, image_id: str, source: str) -> dict:
    """Install the bytes and make the image record agree with them."""
    facts = install(store_path, image_id, source)
    with db_engine.session() as s:
        s.execute(
            sa.update(models.Image)
            .where(models.Image.id == image_id)
            .values(status="available", updated_at=models.utcnow(), **facts)
        )
    return facts
