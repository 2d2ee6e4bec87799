"""A bootable raw disk: MBR, one FAT partition, SYSLINUX, kernel, initramfs.

Built without mounting anything (no loop device, no root needed beyond
writing files): the partition table is written here, mkfs.fat formats at an
offset inside the image file, mtools copies the files in and the mtools
flavour of the SYSLINUX installer makes the partition bootable. Once the
bootloader has read the kernel and initramfs through the BIOS, the guest
runs from memory, so the same disk boots as a local virtio disk, over
qemu's iSCSI initiator or from an iPXE `sanboot`.
"""

import os
import struct

from arame.common import runner

SECTOR = 512
PART_START = 2048  # sectors: 1 MiB, the usual alignment
DEFAULT_SIZE = 64 * 1024 * 1024
FAT16_LBA = 0x0E

MBR_CANDIDATES = (
    "/usr/lib/SYSLINUX/mbr.bin",  # Debian: syslinux
    "/usr/lib/EXTLINUX/mbr.bin",  # Debian: extlinux
    "/usr/lib/syslinux/mbr/mbr.bin",  # Debian: syslinux-common
)
BOOT_CODE = 440  # bytes of MBR code before the disk signature


class DiskError(Exception):
    pass


def syslinux_cfg(append: str) -> str:
    return (
        "SERIAL 0 115200\n"
        "DEFAULT arame\n"
        "PROMPT 0\n"
        "TIMEOUT 0\n"
        "LABEL arame\n"
        "  LINUX /vmlinuz\n"
        "  INITRD /initrd.img\n"
        f"  APPEND {append}\n"
    )


def partition_table(
    size: int,
    start: int = PART_START,
    part_type: int = FAT16_LBA,
    disk_id: int = 0x41524D45,
) -> bytes:
    """Bytes 440..511 of an MBR: disk signature, one bootable partition
    from `start` to the end of the disk, the 0x55AA signature.

    CHS fields say "use LBA" (0xFE/0xFF/0xFF), as fdisk does for a
    partition past what CHS can address; SYSLINUX's MBR reads by LBA.
    """
    sectors = size // SECTOR - start
    if sectors <= 0:
        raise DiskError(f"a {size}-byte disk has no room for a partition")
    chs_lba = b"\xfe\xff\xff"
    entry = struct.pack(
        "<B3sB3sII", 0x80, chs_lba, part_type, chs_lba, start, sectors
    )
    return struct.pack("<IH", disk_id, 0) + entry + b"\0" * 48 + b"\x55\xaa"


def find_mbr_code(candidates=MBR_CANDIDATES) -> bytes:
    for path in candidates:
        if os.path.exists(path):
            with open(path, "rb") as f:
                code = f.read()
            if len(code) > BOOT_CODE:
                raise DiskError(f"{path} is larger than an MBR's boot code")
            return code
    raise DiskError(
        "no SYSLINUX mbr.bin (install syslinux or extlinux): "
        + ", ".join(candidates)
    )


def _mtools_env() -> dict:
    # An image file has no real geometry; don't let mtools refuse it.
    return dict(os.environ, MTOOLS_SKIP_CHECK="1")


def build(
    path: str,
    *,
    vmlinuz: str,
    initrd: str,
    append: str,
    size: int = DEFAULT_SIZE,
) -> None:
    """Write the disk to `path` (a new file; the caller renames it)."""
    with open(path, "wb") as f:
        f.truncate(size)  # sparse: only what is written takes space
        f.seek(0)
        f.write(find_mbr_code())
        f.seek(BOOT_CODE)
        f.write(partition_table(size))
    kib = (size // SECTOR - PART_START) * SECTOR // 1024
    # -h: hidden sectors = the partition's start, which the FAT boot
    # sector uses to find itself on the disk.
    runner.run(
        [
            "mkfs.fat",
            "-F",
            "16",
            "-n",
            "ARAMEBOOT",
            "-i",
            "41524d45",
            "-h",
            str(PART_START),
            f"--offset={PART_START}",
            path,
            str(kib),
        ],
        timeout=60,
    )
    offset = PART_START * SECTOR
    image = f"{path}@@{offset}"
    cfg = os.path.join(os.path.dirname(path), "syslinux.cfg")
    with open(cfg, "w") as f:
        f.write(syslinux_cfg(append))
    try:
        env = _mtools_env()
        runner.run(
            ["mcopy", "-o", "-i", image, vmlinuz, "::/vmlinuz"],
            env=env,
            timeout=60,
        )
        runner.run(
            ["mcopy", "-o", "-i", image, initrd, "::/initrd.img"],
            env=env,
            timeout=60,
        )
        runner.run(
            ["mcopy", "-o", "-i", image, cfg, "::/syslinux.cfg"],
            env=env,
            timeout=60,
        )
    finally:
        os.unlink(cfg)
    runner.run(
        ["syslinux", "--offset", str(offset), "--install", path],
        env=_mtools_env(),
        timeout=60,
    )
