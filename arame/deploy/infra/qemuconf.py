"""The one setting Arame needs in libvirt's qemu.conf."""

import os

QEMU_CONF = "/etc/libvirt/qemu.conf"


def qemu_without_mount_namespaces(path: str = QEMU_CONF) -> bool:
    """`namespaces = []` in qemu.conf, before libvirtd starts.

    By default libvirt gives every qemu a private mount namespace, a copy
    of the host's mounts at the guest's start. Where a storage node shares
    the host (the all-in-one, the lab), that copy keeps every ZFS dataset
    mounted then busy while the guest runs: a volume or pool could not be
    destroyed until some unrelated guest stopped. True if the file changed.
    """
    with open(path) as f:
        lines = f.read().splitlines()
    if any(line.replace(" ", "") == "namespaces=[]" for line in lines):
        return False
    kept = [
        line for line in lines if not line.lstrip().startswith("namespaces")
    ]
    kept += [
        "# Arame (arame.deploy.infra): guests share the host's mounts, "
        "so a guest never keeps a ZFS dataset busy.",
        "namespaces = []",
    ]
    tmp = f"{path}.arame-tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(kept) + "\n")
    os.chmod(tmp, os.stat(path).st_mode & 0o777)
    os.replace(tmp, path)
    return True
