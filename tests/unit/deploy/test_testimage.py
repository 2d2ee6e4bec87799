"""The test image builder's own logic, on a fake kernel tree.

Booting the real image is tests/integration/testimage/; here the kernel,
its modules and busybox are small files made by the test, and the raw disk
(mkfs.fat, mtools, syslinux) is replaced by a stand-in.
"""

import gzip
import json
import lzma
import os
import stat
import struct
import subprocess
import threading

import pytest

from arame.deploy.testimage import builder, cpio, initramfs, kmod, rawdisk

MODULES_DEP = """\
kernel/drivers/virtio/virtio.ko.xz:
kernel/drivers/virtio/virtio_ring.ko.xz:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko.xz:
kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz:
kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_pci_legacy_dev.ko.xz kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz kernel/drivers/virtio/virtio.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz
kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz kernel/drivers/virtio/virtio.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz
kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz
kernel/net/core/failover.ko.xz:
kernel/fs/nls/nls_iso8859-1.ko.gz:
kernel/fs/fat/vfat.ko: kernel/fs/fat/fat.ko
kernel/fs/fat/fat.ko:
"""


# --- module dependencies -------------------------------------------------


def test_dependencies_load_first_and_once():
    deps = kmod.parse_modules_dep(MODULES_DEP)
    order = kmod.load_order(["virtio_pci", "virtio_net", "vfat"], deps)
    assert sorted(order) == sorted(set(order))
    for name, (_, needs) in deps.items():
        if name in order:
            for dep in needs:
                assert order.index(dep) < order.index(name), (dep, name)
    assert order.index("virtio_ring") < order.index("virtio_pci")
    assert order[-1] == "vfat" and "fat" in order


def test_dash_and_underscore_are_one_name():
    deps = kmod.parse_modules_dep(MODULES_DEP)
    assert kmod.load_order(["nls_iso8859-1"], deps) == ["nls_iso8859_1"]


def test_builtin_modules_are_skipped_and_unknown_ones_fail():
    deps = kmod.parse_modules_dep(MODULES_DEP)
    builtin = kmod.parse_builtin("kernel/net/packet/af_packet.ko\n")
    assert kmod.load_order(["af_packet", "fat"], deps, builtin) == ["fat"]
    with pytest.raises(kmod.KernelError, match="no_such"):
        kmod.load_order(["no_such"], deps, builtin)


def test_a_dependency_cycle_is_an_error():
    deps = {"a": ("a.ko", ["b"]), "b": ("b.ko", ["a"])}
    with pytest.raises(kmod.KernelError, match="cycle"):
        kmod.load_order(["a"], deps)


def test_newest_kernel_compares_numbers_and_needs_modules(tmp_path):
    boot, mods = tmp_path / "boot", tmp_path / "modules"
    for v in ("6.1.0-9-amd64", "6.1.0-56-amd64", "6.10.0-1-amd64"):
        (boot).mkdir(exist_ok=True)
        (boot / f"vmlinuz-{v}").write_bytes(b"k")
    for v in ("6.1.0-9-amd64", "6.1.0-56-amd64"):  # 6.10 has no modules
        (mods / v).mkdir(parents=True)
        (mods / v / "modules.dep").write_text("")
    assert kmod.newest_kernel(str(boot), str(mods)) == "6.1.0-56-amd64"
    with pytest.raises(kmod.KernelError):
        kmod.newest_kernel(str(tmp_path / "empty"), str(mods))


def test_compressed_modules_are_decompressed(tmp_path):
    (tmp_path / "a.ko.xz").write_bytes(lzma.compress(b"\x7fELF-a"))
    (tmp_path / "b.ko.gz").write_bytes(gzip.compress(b"\x7fELF-b"))
    (tmp_path / "c.ko").write_bytes(b"\x7fELF-c")
    assert kmod.read_module(str(tmp_path / "a.ko.xz")) == b"\x7fELF-a"
    assert kmod.read_module(str(tmp_path / "b.ko.gz")) == b"\x7fELF-b"
    assert kmod.read_module(str(tmp_path / "c.ko")) == b"\x7fELF-c"


# --- initramfs and disk pieces -------------------------------------------


def read_newc(data: bytes) -> dict[str, tuple[int, bytes, tuple]]:
    """{name: (mode, data, (rdevmajor, rdevminor))} of a newc archive."""
    out, pos = {}, 0
    while True:
        assert data[pos : pos + 6] == b"070701"
        f = [
            int(data[pos + 6 + 8 * i : pos + 14 + 8 * i], 16)
            for i in range(13)
        ]
        mode, size, namesize = f[1], f[6], f[11]
        name_at = pos + 110
        name = data[name_at : name_at + namesize - 1].decode()
        data_at = name_at + namesize + (-(110 + namesize) % 4)
        if name == "TRAILER!!!":
            return out
        out[name] = (mode, data[data_at : data_at + size], (f[9], f[10]))
        pos = data_at + size + (-size % 4)


def test_cpio_archive_round_trips():
    arc = cpio.Archive()
    arc.directory("etc")
    arc.file("etc/x", b"hello", 0o600)
    arc.symlink("sh", "/bin/busybox")
    arc.char_device("console", 5, 1)
    entries = read_newc(arc.getvalue())
    assert stat.S_ISDIR(entries["etc"][0])
    assert entries["etc/x"][1:] == (b"hello", (0, 0))
    assert stat.S_IMODE(entries["etc/x"][0]) == 0o600
    assert (
        stat.S_ISLNK(entries["sh"][0]) and entries["sh"][1] == b"/bin/busybox"
    )
    assert stat.S_ISCHR(entries["console"][0])
    assert entries["console"][2] == (5, 1)
    with pytest.raises(ValueError):
        arc.file("etc/x", b"again")


def fake_static_elf(interp: bool = False) -> bytes:
    header = bytearray(64)
    header[:5] = b"\x7fELF\x02"
    struct.pack_into("<Q", header, 0x20, 64)
    struct.pack_into("<HH", header, 0x36, 56, 1)
    phdr = bytearray(56)
    struct.pack_into("<I", phdr, 0, 3 if interp else 1)
    return bytes(header + phdr)


def test_only_a_static_busybox_is_accepted(tmp_path):
    assert initramfs.is_static_elf(fake_static_elf())
    assert not initramfs.is_static_elf(fake_static_elf(interp=True))
    assert not initramfs.is_static_elf(b"#!/bin/sh\n")
    dynamic = tmp_path / "busybox"
    dynamic.write_bytes(fake_static_elf(interp=True))
    with pytest.raises(initramfs.InitramfsError, match="busybox-static"):
        initramfs.read_busybox(str(dynamic))


@pytest.mark.parametrize("name", sorted(initramfs.GUEST_FILES))
def test_guest_scripts_parse(tmp_path, name):
    script = tmp_path / name
    script.write_bytes(initramfs.guest_file(name))
    subprocess.run(["sh", "-n", str(script)], check=True)


def test_partition_table_is_one_bootable_partition_to_the_end():
    size = 64 * 1024 * 1024
    table = rawdisk.partition_table(size)
    assert len(table) == 512 - rawdisk.BOOT_CODE
    assert table[-2:] == b"\x55\xaa"
    boot, ptype, start, count = struct.unpack_from("<B3xB3xII", table, 6)
    assert (boot, ptype, start) == (0x80, rawdisk.FAT16_LBA, 2048)
    assert (start + count) * 512 == size
    assert table[22:70] == b"\0" * 48  # the other three entries are empty


def test_syslinux_config_boots_the_kernel_with_the_command_line():
    cfg = rawdisk.syslinux_cfg("console=ttyS0 panic=-1")
    assert "LINUX /vmlinuz" in cfg and "INITRD /initrd.img" in cfg
    assert "APPEND console=ttyS0 panic=-1" in cfg


# --- the build: files, manifest, cache, atomic swap ----------------------


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A fake /boot, /lib/modules and busybox; the raw disk a stand-in."""
    version = "6.1.0-56-amd64"
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / f"vmlinuz-{version}").write_bytes(b"KERNEL" * 1000)
    mods = tmp_path / "modules" / version
    mods.mkdir(parents=True)
    (mods / "modules.dep").write_text(MODULES_DEP)
    (mods / "modules.builtin").write_text("")
    for line in MODULES_DEP.splitlines():
        path = mods / line.split(":")[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        body = f"\x7fELF {path.name}".encode()
        if path.name.endswith(".xz"):
            body = lzma.compress(body)
        elif path.name.endswith(".gz"):
            body = gzip.compress(body)
        path.write_bytes(body)
    busybox = tmp_path / "busybox"
    busybox.write_bytes(fake_static_elf())
    monkeypatch.setattr(
        builder,
        "MODULES",
        ("virtio_pci", "virtio_net", "vfat", "nls_iso8859-1"),
    )
    monkeypatch.setattr(
        initramfs, "applet_links", lambda busybox: ["bin/sh", "sbin/insmod"]
    )
    disks = []

    def fake_disk(path, *, vmlinuz, initrd, append, size=0):
        disks.append(path)
        with open(path, "wb") as f:
            f.write(b"DISK" + append.encode())

    monkeypatch.setattr(rawdisk, "build", fake_disk)
    out = tmp_path / "out" / "img"

    def build(force=False):
        return builder.build(
            str(out),
            force,
            boot_dir=str(boot),
            modules_root=str(tmp_path / "modules"),
            busybox=str(busybox),
        )

    return type(
        "Tree",
        (),
        {
            "build": staticmethod(build),
            "out": out,
            "disks": disks,
            "version": version,
        },
    )


def test_build_writes_every_file_and_its_manifest(tree):
    result = tree.build()
    assert not result["cached"]
    assert set(os.listdir(tree.out)) == set(builder.FILES) | {"manifest.json"}
    manifest = json.loads((tree.out / "manifest.json").read_text())
    assert manifest["kernel_version"] == tree.version
    for name in builder.FILES:
        path = tree.out / name
        assert manifest["files"][name] == {
            "size": path.stat().st_size,
            "sha256": builder.sha256_file(str(path)),
        }
        assert result["paths"][name] == str(path)
    assert (tree.out / "vmlinuz").read_bytes() == b"KERNEL" * 1000

    entries = read_newc(
        gzip.decompress((tree.out / "initrd.img").read_bytes())
    )
    assert stat.S_IMODE(entries["init"][0]) == 0o755
    assert entries["init"][1] == initramfs.guest_file("init")
    assert entries["dev/console"][2] == (5, 1)
    assert entries["bin/sh"][1] == b"/bin/busybox"
    order = entries["etc/modules"][1].decode().split()
    assert order == manifest["modules"]
    assert order.index("virtio_ring") < order.index("virtio_pci")
    assert (
        entries["lib/modules/virtio_pci.ko"][1] == b"\x7fELF virtio_pci.ko.xz"
    )
    assert entries["lib/modules/nls_iso8859_1.ko"][1].startswith(b"\x7fELF")


def test_a_second_build_is_cached_unless_forced(tree):
    first = tree.build()
    second = tree.build()
    assert second["cached"] and second["build_key"] == first["build_key"]
    assert len(tree.disks) == 1
    third = tree.build(force=True)
    assert not third["cached"] and len(tree.disks) == 2


def test_any_input_change_rebuilds(tree, monkeypatch):
    first = tree.build()
    monkeypatch.setattr(builder, "BUILDER_VERSION", "test-2")
    second = tree.build()
    assert not second["cached"] and second["build_key"] != first["build_key"]
    real = initramfs.guest_file
    monkeypatch.setattr(
        initramfs,
        "guest_file",
        lambda n: real(n) + (b"\n# changed" if n == "init" else b""),
    )
    assert not tree.build()["cached"]


def test_a_damaged_output_is_rebuilt(tree):
    tree.build()
    with open(tree.out / "initrd.img", "r+b") as f:
        f.truncate(10)
    assert not tree.build()["cached"]
    (tree.out / "manifest.json").write_text("{not json")
    assert not tree.build()["cached"]


def test_replacing_leaves_nothing_behind(tree):
    tree.build()
    tree.build(force=True)
    parent = tree.out.parent
    assert sorted(os.listdir(parent)) == [".img.lock", "img"]


def test_a_failed_build_keeps_the_previous_image(tree, monkeypatch):
    before = tree.build()

    def broken(*a, **kw):
        raise rawdisk.DiskError("no room")

    monkeypatch.setattr(rawdisk, "build", broken)
    with pytest.raises(builder.BuildError, match="no room"):
        tree.build(force=True)
    assert (
        json.loads((tree.out / "manifest.json").read_text())["build_key"]
        == before["build_key"]
    )
    assert sorted(os.listdir(tree.out.parent)) == [".img.lock", "img"]


def test_stale_temporary_directories_are_cleared(tree):
    stale = tree.out.parent / ".img.tmp-dead"
    stale.mkdir(parents=True)
    (stale / "vmlinuz").write_bytes(b"half")
    tree.build()
    assert not stale.exists()


def test_a_foreign_directory_is_never_replaced(tree):
    tree.out.mkdir(parents=True)
    (tree.out / "precious").write_text("mine")
    with pytest.raises(builder.BuildError, match="refusing"):
        tree.build()
    assert (tree.out / "precious").read_text() == "mine"


def test_concurrent_builds_build_once(tree, monkeypatch):
    calls = []
    real = builder._build_into

    def counted(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(builder, "_build_into", counted)
    results, errors = [], []

    def run():
        try:
            results.append(tree.build())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(calls) == 1
    assert sorted(r["cached"] for r in results) == [False, True, True, True]
