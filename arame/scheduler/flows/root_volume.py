"""An instance's root disk on a storage node: a clone of its image, exported
over iSCSI to the instance's host only, with CHAP credentials of its own.

Used when the image is a bootable `raw` disk, a storage node (arame-sta) is
up and the chosen host has an iSCSI initiator address; otherwise the
hypervisor makes a local overlay. The volume is a record like any other
(`root_of` = the instance), so delete and compensation find it.

Until images are uploaded to storage nodes through the API, a node takes an
image's bytes from `<[sta] import_dirs[0]>/<image id>.raw` the first time a
volume needs it (`arame-manage image install-test` puts the test disk
there).
"""

import os
import secrets

import sqlalchemy as sa

from arame.agents.hva import messages as hva_messages
from arame.agents.sta import messages as sta_messages
from arame.agents.sta import rpcapi as sta_rpcapi
from arame.common import ids
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models, services
from arame.scheduler import storage_room

STA_BINARY = sta_rpcapi.BINARY


def size_gb(inst: models.Instance) -> int:
    """The root's size: the one asked (root_gb), else the flavor's disk."""
    return max(1, inst.root_gb or inst.disk_gb)


def plan(inst: models.Instance, host: str) -> dict | None:
    """What a root volume for `inst` on `host` needs, or None (local disk)."""
    with db_engine.session() as s:
        img = s.get(models.Image, inst.image_id)
        if img is None or img.format != "raw":
            return None  # the host and the nodes are not read
        h = s.scalar(sa.select(models.Host).where(models.Host.name == host))
        nodes = services.live_hosts(s, STA_BINARY)
        if not nodes or h is None or not h.storage_address:
            return None
        # A node with room for the disk; one that holds the image already
        # clones at once, any other imports it first.
        fit, _ = storage_room.with_room(s, nodes, size_gb(inst))
        if not fit:
            return None
        having = {
            loc.storage_node
            for loc in s.scalars(
                sa.select(models.ImageLocation).where(
                    models.ImageLocation.image_id == img.id
                )
            )
        }
        node = next((n for n in fit if n in having), fit[0])
        located = node in having
        return {
            "node": node,
            "initiator": h.storage_address,
            "image": {
                "id": img.id,
                "sha256": img.sha256,
                "size_bytes": img.size_bytes,
            },
            "image_located": located,
        }


def create_record(inst: models.Instance, node: str) -> models.Volume:
    vol_id = ids.generate("volume")
    now = models.utcnow()
    vol = models.Volume(
        id=vol_id,
        name=f"{inst.name}-root"[:63],
        account_id=inst.account_id,
        size_gb=size_gb(inst),
        status="creating",
        image_id=inst.image_id,
        storage_node=node,
        instance_id=inst.id,
        root_of=inst.id,
        chap_user=f"arame-{vol_id[4:]}",
        chap_secret=secrets.token_hex(12),
        created_at=now,
        updated_at=now,
    )
    with db_engine.session() as s:
        s.add(vol)
    return vol


def image_source(image_id: str) -> str:
    return os.path.join(CONF.sta.import_dirs[0], f"{image_id}.raw")


def record_located(image_id: str, node: str) -> None:
    with db_engine.session() as s:
        if s.get(models.ImageLocation, (image_id, node)) is None:
            s.add(models.ImageLocation(image_id=image_id, storage_node=node))


def record_export(vol_id: str, export: dict) -> None:
    with db_engine.session() as s:
        s.execute(
            sa.update(models.Volume)
            .where(models.Volume.id == vol_id)
            .values(
                status="attached",
                export_iqn=export["iqn"],
                export_portal=export["portal"],
                updated_at=models.utcnow(),
            )
        )


def disk_spec(
    vol: models.Volume, export: sta_messages.Connection
) -> hva_messages.IscsiDisk:
    """What hva needs to attach it: the secret goes into a libvirt secret
    there, never into the domain XML or a command line."""
    return {
        "type": "iscsi",
        "volume_id": vol.id,
        "portal": export["portal"],
        "iqn": export["iqn"],
        "lun": export["lun"],
        "chap_user": vol.chap_user,
        "chap_secret": vol.chap_secret,
    }


def root_volume_of(session, instance_id: str) -> models.Volume | None:
    return session.scalar(
        sa.select(models.Volume).where(
            models.Volume.root_of == instance_id,
            models.Volume.status != "deleted",
        )
    )


def mark_deleted(vol_id: str) -> None:
    with db_engine.session() as s:
        now = models.utcnow()
        s.execute(
            sa.update(models.Volume)
            .where(models.Volume.id == vol_id)
            .values(
                status="deleted",
                deleted_at=now,
                updated_at=now,
                instance_id=None,
            )
        )
