"""The test image's initramfs: static busybox, our init, kernel modules.

Everything in it comes from Debian packages on this machine
(busybox-static, linux-image-amd64) and from the data files beside this
module, so it is built offline in well under a second.
"""

import gzip
import os
import struct

from arame.common import runner
from arame.deploy.testimage import cpio

BUSYBOX = "/bin/busybox"
DATA_DIR = os.path.dirname(os.path.abspath(__file__))
# The guest's own files: name beside this module -> (path in the guest, mode)
GUEST_FILES = {
    "init": ("init", 0o755),
    "udhcpc.script": ("etc/udhcpc.script", 0o755),
    "power-button": ("etc/acpi/PWRF/00000080", 0o755),
}
DIRECTORIES = (
    ("bin", 0o755),
    ("sbin", 0o755),
    ("usr", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
    ("dev", 0o755),
    ("proc", 0o555),
    ("sys", 0o555),
    ("run", 0o755),
    ("tmp", 0o1777),
    ("mnt", 0o755),
    ("root", 0o700),
    ("etc", 0o755),
    ("etc/acpi", 0o755),
    ("etc/acpi/PWRF", 0o755),
    ("lib", 0o755),
    ("lib/modules", 0o755),
    ("var", 0o755),
    ("var/log", 0o755),
)
_PT_INTERP = 3


class InitramfsError(Exception):
    pass


def guest_file(name: str) -> bytes:
    with open(os.path.join(DATA_DIR, name), "rb") as f:
        return f.read()


def is_static_elf(data: bytes) -> bool:
    """A 64-bit ELF with no program interpreter (no dynamic loader)."""
    if data[:5] != b"\x7fELF\x02":
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        (p_type,) = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == _PT_INTERP:
            return False
    return True


def read_busybox(path: str = BUSYBOX) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InitramfsError(f"{path}: {e} (install busybox-static)") from e
    # A dynamic busybox would find no libc in the initramfs: the guest's
    # init would fail to start and the kernel would panic far from here.
    if not is_static_elf(data):
        raise InitramfsError(
            f"{path} is not a static binary (install busybox-static)"
        )
    return data


def applet_links(busybox: str = BUSYBOX) -> list[str]:
    """Where each applet lives ("bin/sh", "sbin/insmod", ...)."""
    out = runner.run([busybox, "--list-full"], timeout=10).stdout
    return sorted(
        {
            line.strip()
            for line in out.splitlines()
            if "/" in line and line.strip() != "bin/busybox"
        }
    )


def build(
    modules: list[tuple[str, bytes]], *, busybox: str = BUSYBOX, info: str = ""
) -> bytes:
    """A gzip'd newc archive; `modules` are (name, ELF bytes) in load order."""
    arc = cpio.Archive()
    for name, mode in DIRECTORIES:
        arc.directory(name, mode)
    # The kernel opens /dev/console for init before anything is mounted.
    arc.char_device("dev/console", 5, 1)
    arc.char_device("dev/null", 1, 3, 0o666)
    arc.file("bin/busybox", read_busybox(busybox), 0o755)
    for link in applet_links(busybox):
        arc.symlink(link, "/bin/busybox")
    for src, (dest, mode) in GUEST_FILES.items():
        arc.file(dest, guest_file(src), mode)
    arc.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    arc.file("etc/group", b"root:x:0:\n")
    arc.file("etc/arame-test-image", info.encode())
    for name, data in modules:
        arc.file(f"lib/modules/{name}.ko", data)
    arc.file("etc/modules", "".join(f"{n}\n" for n, _ in modules).encode())
    # mtime=0: the same inputs give the same bytes.
    return gzip.compress(arc.getvalue(), compresslevel=6, mtime=0)
