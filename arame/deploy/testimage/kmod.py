"""Which kernel the test image boots, and which of its modules it carries.

The host runs a kernel of its own (not Debian's), so the version comes from
what is installed in /boot and /lib/modules, never from `uname -r`. The
modules are loaded by the guest's init with plain `insmod`, so the order is
worked out here from modules.dep: every module after what it depends on.
"""

import gzip
import lzma
import os
import re

from arame.common import runner


class KernelError(Exception):
    """No usable kernel, or a module the image needs is missing."""


def _version_key(version: str) -> list:
    # "6.1.0-56-amd64" sorts after "6.1.0-9-amd64": compare numbers as numbers.
    return [
        (0, int(p), "") if p.isdigit() else (1, 0, p)
        for p in re.split(r"(\d+)", version)
        if p
    ]


def newest_kernel(
    boot_dir: str = "/boot", modules_root: str = "/lib/modules"
) -> str:
    """The newest version with both /boot/vmlinuz-<v> and its modules.dep."""
    try:
        names = os.listdir(boot_dir)
    except OSError as e:
        raise KernelError(f"cannot list {boot_dir}: {e}") from e
    versions = [
        n[len("vmlinuz-") :] for n in names if n.startswith("vmlinuz-")
    ]
    usable = [
        v
        for v in versions
        if os.path.isfile(os.path.join(modules_root, v, "modules.dep"))
    ]
    if not usable:
        raise KernelError(
            f"no /boot/vmlinuz-* in {boot_dir} with modules in "
            f"{modules_root} (install linux-image-amd64)"
        )
    return max(usable, key=_version_key)


def normalise(name: str) -> str:
    """modprobe treats '-' and '_' in module names as the same character."""
    return name.replace("-", "_")


def module_name(path: str) -> str:
    base = os.path.basename(path)
    return normalise(base.split(".ko", 1)[0])


def parse_modules_dep(text: str) -> dict[str, tuple[str, list[str]]]:
    """modules.dep -> {name: (relative path, [names it depends on])}."""
    table = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        path, deps = line.split(":", 1)
        path = path.strip()
        table[module_name(path)] = (
            path,
            [module_name(d) for d in deps.split()],
        )
    return table


def parse_builtin(text: str) -> set[str]:
    return {module_name(line) for line in text.split() if line}


def load_order(
    wanted: list[str],
    deps: dict[str, tuple[str, list[str]]],
    builtin: set[str] = frozenset(),
) -> list[str]:
    """Every wanted module and what it needs, each after its dependencies.

    Built-in modules need no loading and are left out; a module that is
    neither built in nor in modules.dep is an error (the guest would boot
    without a device it needs and the test would fail far from the cause).
    """
    order: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in visiting:
            raise KernelError(
                "dependency cycle: " + " -> ".join(chain + (name,))
            )
        if name not in deps:
            if name in builtin:
                done.add(name)
                return
            raise KernelError(
                f"module {name} is neither built in nor in modules.dep"
            )
        visiting.add(name)
        for dep in deps[name][1]:
            visit(dep, chain + (name,))
        visiting.discard(name)
        done.add(name)
        order.append(name)

    for name in wanted:
        visit(normalise(name), ())
    return order


def read_module(path: str) -> bytes:
    """A module's ELF bytes; insmod in busybox takes no compressed modules."""
    if path.endswith(".ko.xz"):
        with lzma.open(path) as f:
            return f.read()
    if path.endswith(".ko.gz"):
        with gzip.open(path) as f:
            return f.read()
    if path.endswith(".ko.zst"):
        # No zstd in the standard library; Debian's zstd tool is small.
        return runner.run(
            ["zstd", "-q", "-d", "-c", path], binary=True, timeout=30
        ).stdout
    if path.endswith(".ko"):
        with open(path, "rb") as f:
            return f.read()
    raise KernelError(f"unknown module format: {path}")


class Kernel:
    """One installed kernel version: its image and its module tree."""

    def __init__(
        self,
        version: str,
        boot_dir: str = "/boot",
        modules_root: str = "/lib/modules",
    ):
        self.version = version
        self.vmlinuz = os.path.join(boot_dir, f"vmlinuz-{version}")
        self.modules_dir = os.path.join(modules_root, version)
        with open(os.path.join(self.modules_dir, "modules.dep")) as f:
            self.deps = parse_modules_dep(f.read())
        builtin = os.path.join(self.modules_dir, "modules.builtin")
        self.builtin: set[str] = set()
        if os.path.exists(builtin):
            with open(builtin) as f:
                self.builtin = parse_builtin(f.read())

    def load_order(self, wanted: list[str]) -> list[str]:
        return load_order(wanted, self.deps, self.builtin)

    def module_bytes(self, name: str) -> bytes:
        return read_module(os.path.join(self.modules_dir, self.deps[name][0]))
