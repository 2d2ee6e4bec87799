"""Does KVM really run guests here? Boot a kernel under it and see.

libvirt advertises `kvm` whenever /dev/kvm opens, but on some hosts (nested
or microVM kernels) a guest then hangs right after the BIOS. So `auto` boots
the host's own kernel, without a root file system, under KVM: a kernel that
runs to its "unable to mount root" panic proves KVM executes long-mode code.
A hang past the deadline means emulation (`qemu`). The answer is cached per
kernel, qemu binary and /dev/kvm, so an agent restart doesn't pay it again.
"""

import glob
import json
import os
import select
import shutil
import subprocess
import time

from oslo_log import log

LOG = log.getLogger(__name__)

_PANIC_MARKERS = (b"Kernel panic", b"Unable to mount root", b"VFS:")
QEMU = "qemu-system-x86_64"


def _probe_kernel() -> str | None:
    kernels = sorted(glob.glob("/boot/vmlinuz-*"))
    return kernels[-1] if kernels else None


def _cache_key(kernel: str, qemu: str) -> str:
    def stamp(path):
        try:
            st = os.stat(path)
            return f"{path}:{st.st_size}:{int(st.st_mtime)}"
        except OSError:
            return f"{path}:-"

    return "|".join(stamp(p) for p in (kernel, qemu, "/dev/kvm"))


def probe(cache_file: str | None, timeout: float) -> tuple[str, str]:
    """Return (virt_type, why)."""
    if not os.path.exists("/dev/kvm"):
        return "qemu", "no /dev/kvm"
    qemu = shutil.which(QEMU)
    kernel = _probe_kernel()
    if qemu is None or kernel is None:
        return "qemu", f"cannot probe KVM (qemu: {qemu}, kernel: {kernel})"
    key = _cache_key(kernel, qemu)
    if cache_file:
        try:
            with open(cache_file) as f:
                cached = json.load(f)
            if cached.get("key") == key:
                return cached["virt_type"], cached["why"] + " (cached)"
        except (OSError, ValueError, KeyError):
            pass
    virt_type, why = _boot(qemu, kernel, timeout)
    LOG.info("KVM probe: %s (%s)", virt_type, why)
    if cache_file:
        tmp = f"{cache_file}.tmp"
        os.makedirs(os.path.dirname(cache_file) or ".", exist_ok=True)
        with open(tmp, "w") as f:
            json.dump({"key": key, "virt_type": virt_type, "why": why}, f)
        os.replace(tmp, cache_file)
    return virt_type, why


def _boot(qemu: str, kernel: str, timeout: float) -> tuple[str, str]:
    # The one external command not run through common.runner: we read its
    # output while it runs and stop it as soon as the kernel got far enough.
    args = [
        qemu,
        "-accel",
        "kvm",
        "-m",
        "128",
        "-nographic",
        "-nodefaults",
        "-serial",
        "stdio",
        "-no-reboot",
        "-kernel",
        kernel,
        "-append",
        "console=ttyS0 panic=-1 quiet",
    ]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""
    try:
        while time.monotonic() - t0 < timeout:
            select.select([proc.stdout], [], [], 0.2)
            chunk = proc.stdout.read() or b""
            seen = (seen + chunk)[-65536:]
            if any(m in seen for m in _PANIC_MARKERS):
                return "kvm", (
                    f"a kernel booted under KVM in "
                    f"{time.monotonic() - t0:.1f}s"
                )
            if proc.poll() is not None and not chunk:
                tail = seen.decode("utf-8", "replace").strip()[-200:]
                return (
                    "qemu",
                    f"qemu -accel kvm exited {proc.returncode}: {tail}",
                )
        return "qemu", (
            f"a kernel under KVM did not finish booting in "
            f"{timeout:g}s (KVM present but not usable)"
        )
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
