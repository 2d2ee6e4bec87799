"""Build the test image into a directory, offline, cached, atomically.

    build("/var/lib/arame/test-image") ->
        vmlinuz        Debian's kernel (the newest in /boot with modules)
        initrd.img     busybox + our init + the modules it needs
        kernel.tar     vmlinuz + initrd: the API's `kernel` image format
        disk.raw       MBR + FAT partition + SYSLINUX + the same two files
        manifest.json  kernel version, size and sha256 of each file, build key

The build key hashes every input (guest files, busybox, kernel, module list,
this builder's version): when manifest.json carries the same key, nothing
is done. A build goes into a temporary directory beside the output and is
swapped in by one rename, under a lock, so a reader never sees half an
image and two concurrent builds do the work once.
"""

import contextlib
import ctypes
import errno
import fcntl
import glob
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time

from arame.common import runner
from arame.deploy.testimage import initramfs, kmod, rawdisk

BUILDER_VERSION = "1"
KERNEL_CMDLINE = "console=ttyS0 panic=-1"
FILES = ("vmlinuz", "initrd.img", "kernel.tar", "disk.raw")
MANIFEST = "manifest.json"

# What the guest loads, dependencies resolved from modules.dep; built-in
# ones (af_packet on Debian) are left out.
MODULES = (
    # virtio over PCI (q35 and pc): NIC and disks (the config drive)
    "virtio_pci",
    "virtio_net",
    "virtio_blk",
    # the config drive: ISO 9660 (cidata) or FAT and FAT's code pages
    "isofs",
    "vfat",
    "nls_cp437",
    "nls_iso8859-1",
    "nls_ascii",
    "nls_utf8",
    # the ACPI power button as an input event, for acpid
    "button",
    "evdev",
    # NICs of machines without virtio (pc's e1000, q35's e1000e)
    "e1000",
    "e1000e",
    # udhcpc's raw socket
    "af_packet",
)


class BuildError(Exception):
    pass


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_key(
    kernel_version: str,
    vmlinuz_sha256: str,
    busybox_sha256: str,
    modules=MODULES,
) -> str:
    """Changes whenever anything that goes into the image changes."""
    h = hashlib.sha256()
    for part in (
        BUILDER_VERSION,
        kernel_version,
        vmlinuz_sha256,
        busybox_sha256,
        KERNEL_CMDLINE,
        ",".join(modules),
    ):
        h.update(part.encode() + b"\0")
    for name in sorted(initramfs.GUEST_FILES):
        h.update(name.encode() + b"\0" + initramfs.guest_file(name) + b"\0")
    return h.hexdigest()


def read_manifest(output_dir: str) -> dict | None:
    try:
        with open(os.path.join(output_dir, MANIFEST)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def is_current(output_dir: str, key: str) -> dict | None:
    """The manifest if the directory holds a complete build with this key.

    Sizes are checked, not hashes: a cache hit must stay cheap; the build
    itself only ever swaps in complete directories.
    """
    manifest = read_manifest(output_dir)
    if not manifest or manifest.get("build_key") != key:
        return None
    for name in FILES:
        info = manifest.get("files", {}).get(name)
        path = os.path.join(output_dir, name)
        if (
            not info
            or not os.path.isfile(path)
            or os.path.getsize(path) != info.get("size")
        ):
            return None
    return manifest


@contextlib.contextmanager
def _locked(path: str):
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: str, b: str) -> bool:
    """Swap two paths atomically (renameat2); False where unsupported."""
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, a.encode(), _AT_FDCWD, b.encode(), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), b)


def _swap_in(new: str, output_dir: str, parent: str, name: str) -> None:
    """Put `new` at output_dir; whatever was there ends up at `new`."""
    if not os.path.exists(output_dir):
        os.rename(new, output_dir)
        return
    if _exchange(new, output_dir):
        return
    # Filesystems without RENAME_EXCHANGE: two renames, a moment without.
    aside = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
    os.rename(output_dir, os.path.join(aside, "old"))
    os.rename(new, output_dir)
    os.rename(aside, new)


def _check_replaceable(output_dir: str) -> None:
    # --output /tmp must not wipe /tmp: only ever replace a directory that
    # holds nothing but what a build writes.
    if not os.path.exists(output_dir):
        return
    if not os.path.isdir(output_dir):
        raise BuildError(f"{output_dir} exists and is not a directory")
    foreign = set(os.listdir(output_dir)) - set(FILES) - {MANIFEST}
    if foreign:
        raise BuildError(
            f"{output_dir} holds files a test image build did "
            f"not write ({', '.join(sorted(foreign)[:5])}): "
            "refusing to replace it"
        )


def _kernel_tar(path: str, vmlinuz: str, initrd: str) -> None:
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        for arcname, src in (("vmlinuz", vmlinuz), ("initrd", initrd)):
            info = tar.gettarinfo(src, arcname)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = 0o644
            info.mtime = 0
            with open(src, "rb") as f:
                tar.addfile(info, f)


def _build_into(
    work: str, kernel: kmod.Kernel, key: str, busybox: str
) -> dict:
    t0 = time.monotonic()
    order = kernel.load_order(list(MODULES))
    vmlinuz = os.path.join(work, "vmlinuz")
    initrd = os.path.join(work, "initrd.img")
    shutil.copyfile(kernel.vmlinuz, vmlinuz)
    info = f"builder={BUILDER_VERSION} kernel={kernel.version} key={key}\n"
    image = initramfs.build(
        [(m, kernel.module_bytes(m)) for m in order],
        busybox=busybox,
        info=info,
    )
    with open(initrd, "wb") as f:
        f.write(image)
    _kernel_tar(os.path.join(work, "kernel.tar"), vmlinuz, initrd)
    rawdisk.build(
        os.path.join(work, "disk.raw"),
        vmlinuz=vmlinuz,
        initrd=initrd,
        append=KERNEL_CMDLINE,
    )
    for name in FILES:
        os.chmod(os.path.join(work, name), 0o644)
    manifest = {
        "format": 1,
        "builder_version": BUILDER_VERSION,
        "build_key": key,
        "kernel_version": kernel.version,
        "kernel_cmdline": KERNEL_CMDLINE,
        "modules": order,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": {
            name: {
                "size": os.path.getsize(os.path.join(work, name)),
                "sha256": sha256_file(os.path.join(work, name)),
            }
            for name in FILES
        },
    }
    manifest["build_seconds"] = round(time.monotonic() - t0, 3)
    tmp = os.path.join(work, MANIFEST + ".tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.rename(tmp, os.path.join(work, MANIFEST))
    os.chmod(work, 0o755)  # mkdtemp made it 0700
    return manifest


def _result(output_dir: str, manifest: dict, cached: bool) -> dict:
    return dict(
        manifest,
        output_dir=output_dir,
        cached=cached,
        paths={
            name: os.path.join(output_dir, name)
            for name in FILES + (MANIFEST,)
        },
    )


def build(
    output_dir: str,
    force: bool = False,
    *,
    boot_dir: str = "/boot",
    modules_root: str = "/lib/modules",
    busybox: str = initramfs.BUSYBOX,
) -> dict:
    """Build the test image into output_dir unless it is already there.

    Returns the manifest plus `output_dir`, `paths` (file name -> path) and
    `cached` (True when nothing was built).
    """
    output_dir = os.path.abspath(output_dir)
    parent, name = os.path.split(output_dir)
    os.makedirs(parent, exist_ok=True)
    try:
        kernel = kmod.Kernel(
            kmod.newest_kernel(boot_dir, modules_root), boot_dir, modules_root
        )
        key = build_key(
            kernel.version, sha256_file(kernel.vmlinuz), sha256_file(busybox)
        )
    except (kmod.KernelError, OSError) as e:
        raise BuildError(
            f"{e} (needs linux-image-amd64 and busybox-static)"
        ) from e
    with _locked(os.path.join(parent, f".{name}.lock")):
        if not force:
            manifest = is_current(output_dir, key)
            if manifest:
                return _result(output_dir, manifest, cached=True)
        _check_replaceable(output_dir)
        # Under the lock, a temporary directory is what a killed build left.
        for kind in ("tmp", "old"):
            pattern = os.path.join(parent, f".{glob.escape(name)}.{kind}-*")
            for stale in glob.glob(pattern):
                shutil.rmtree(stale, ignore_errors=True)
        work = tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent)
        try:
            manifest = _build_into(work, kernel, key, busybox)
            _swap_in(work, output_dir, parent, name)
        except (
            kmod.KernelError,
            initramfs.InitramfsError,
            rawdisk.DiskError,
            runner.CommandError,
        ) as e:
            raise BuildError(str(e)) from e
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return _result(output_dir, manifest, cached=False)
