"""Root disks: a qcow2 overlay over a cached image, or for a `kernel` image
(booted directly) a blank qcow2 of the flavor's size.

The iSCSI form (a LUN exported by a storage node, `config.IscsiDisk`) is
made by the build flow's storage step and arrives in the spawn message.
"""

import json
import os

from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.common import runner


def _virtual_size(path: str, fmt: str) -> int:
    out = runner.run(["qemu-img", "info", "--output=json", "-f", fmt, path],
                     timeout=60).stdout
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
