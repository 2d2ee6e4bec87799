"""Root disks: a qcow2 overlay over a cached image, or for a `kernel` image
(booted directly) a blank qcow2 of the flavor's size.

The iSCSI form (a LUN exported by a storage node, `config.IscsiDisk`) is
made by the build flow's storage step and arrives in the spawn message.
"""

import json
import os
import re
import uuid
from collections.abc import Mapping
from typing import Any

from arame.agents.hva import messages
from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.common import ids, runner


def _virtual_size(path: str, fmt: str) -> int:
    out = runner.run(
        ["qemu-img", "info", "--output=json", "-f", fmt, path], timeout=60
    ).stdout
    return int(json.loads(out)["virtual-size"])


def root_disk(instance_dir: str, image: dict, disk_gb: int):
    """Create (once) and describe the root disk; None when there is none."""
    path = os.path.join(instance_dir, "disk")
    size = disk_gb << 30
    if "disk" in image:
        size = max(size, _virtual_size(image["disk"], image["format"]))
    elif not disk_gb:
        return None
    if not os.path.exists(path):
        tmp = path + ".part"
        args = ["qemu-img", "create", "-q", "-f", "qcow2"]
        if "disk" in image:
            args += ["-F", image["format"], "-b", image["disk"]]
        runner.run(args + [tmp, str(size)], timeout=60)
        os.replace(tmp, path)
    return xmlconf.FileDisk(path=path, target="vda", format="qcow2")


_IQN = re.compile(
    r"iqn\.\d{4}-\d{2}\.[a-z0-9][a-z0-9.-]*:[a-z0-9][a-z0-9.:-]*"
)
_PORTAL = re.compile(r"[A-Za-z0-9.-]+:\d{1,5}")
_CHAP_USER = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SECRET_NS = uuid.UUID("6f1c1e9a-51a4-4cf4-9d1e-2a3a9b7d4c00")


def secret_uuid(instance_id: str) -> str:
    return str(uuid.uuid5(_SECRET_NS, f"{instance_id}/root"))


def volume_secret_uuid(instance_id: str, volume_id: str) -> str:
    """One secret per attached data volume: its CHAP secret (fresh at
    each attach), named after the guest too so that destroy finds it."""
    return str(uuid.uuid5(_SECRET_NS, f"{instance_id}/{volume_id}"))


def _check_iscsi(spec: Mapping[str, Any]) -> None:
    """Every field checked first: it lands in the domain XML and in qemu's
    command line."""
    lun = spec.get("lun")
    if not (
        isinstance(spec.get("iqn"), str)
        and _IQN.fullmatch(spec["iqn"])
        and isinstance(spec.get("portal"), str)
        and _PORTAL.fullmatch(spec["portal"])
        and isinstance(lun, int)
        and 0 <= lun < 256
        and isinstance(spec.get("chap_user"), str)
        and _CHAP_USER.fullmatch(spec["chap_user"])
        and isinstance(spec.get("chap_secret"), str)
        and spec["chap_secret"]
    ):
        raise ValueError(
            f"bad iSCSI disk: iqn={spec.get('iqn')!r} "
            f"portal={spec.get('portal')!r} lun={lun!r}"
        )


def iscsi_root(root: messages.IscsiDisk, secret: str) -> xmlconf.IscsiDisk:
    """The root volume as a network disk."""
    _check_iscsi(root)
    return xmlconf.IscsiDisk(
        portal=root["portal"],
        iqn=root["iqn"],
        lun=root["lun"],
        target="vda",
        chap_user=root["chap_user"],
        secret_uuid=secret,
    )


def check_volume(volume: Mapping[str, Any]) -> None:
    _check_iscsi(volume)
    if not ids.is_valid("volume", volume.get("volume_id")):
        raise ValueError(f"not a volume id: {volume.get('volume_id')!r}")


def iscsi_volume(
    volume: messages.IscsiDisk, secret: str, target: str
) -> xmlconf.IscsiDisk:
    """A data volume as a network disk; its serial is the volume id (the
    guest sees it in /sys/block/<dev>/serial, and we find it by it)."""
    check_volume(volume)
    return xmlconf.IscsiDisk(
        portal=volume["portal"],
        iqn=volume["iqn"],
        lun=volume["lun"],
        target=target,
        chap_user=volume["chap_user"],
        secret_uuid=secret,
        serial=volume["volume_id"],
    )
