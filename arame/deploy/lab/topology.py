"""The lab's machines: which host plays which role, its addresses, and the
namespaces that make it a host.

A host is a network namespace `lab-hN` (its links: `mgmt0` on the
management network, `ul0` on the underlay) plus a mount and a UTS
namespace pinned to files under `<lab>/ns/`: its hostname is `lab-hN`,
and libvirt's, Arame's and the config's directories are the host's own
(bind mounts of `<lab>/hN/...`), so every daemon runs the command line
its systemd unit gives, with the paths a real host has. The two networks
are bridges in the switch namespace `lab-sw`; nothing of the lab is in
the machine's own network namespace.
"""

import dataclasses
import os
import shutil

from arame.deploy.infra.commands import run
from arame.deploy.infra.qemuconf import qemu_without_mount_namespaces

NETNS_PREFIX = "lab-h"
SWITCH_NETNS = "lab-sw"
MGMT_BRIDGE = "alab-mgmt"
UNDERLAY_BRIDGE = "alab-ul"
MGMT_DEV = "mgmt0"
UNDERLAY_DEV = "ul0"
# Benchmark ranges (RFC 2544): nothing real answers there, and the lab's
# namespaces are the only places they exist.
MGMT_NET = "198.18.100"
UNDERLAY_NET = "198.18.101"

# What a host's roles run (arame.deploy.lab.units names the units).
CONTROLLER = "controller"  # api, two schedulers, collector
COMPUTE = "compute"  # libvirtd + virtlogd, hva
NETWORK = "network"  # nsa (DHCP and DNS)
STORAGE = "storage"  # sta
ALL_ROLES = (CONTROLLER, COMPUTE, NETWORK, STORAGE)


@dataclasses.dataclass(frozen=True)
class Host:
    index: int
    roles: tuple[str, ...]

    @property
    def name(self) -> str:
        """Its hostname, [DEFAULT] host and network namespace."""
        return f"{NETNS_PREFIX}{self.index}"

    @property
    def netns(self) -> str:
        return self.name

    @property
    def short(self) -> str:
        return f"h{self.index}"

    @property
    def mgmt_ip(self) -> str:
        return f"{MGMT_NET}.{self.index}"

    @property
    def underlay_ip(self) -> str:
        return f"{UNDERLAY_NET}.{self.index}"


def default_roles(count: int, hva_on_controller: bool = False) -> list[Host]:
    """h1 the controller, storage and network node; h2... hypervisors.

    The network node needs no hypervisor: nsa makes each network's bridge
    with its VXLAN port from [hva_networking], as hva does, so guests on
    every hypervisor get their leases across the underlay from the start
    (see doc/source/admin/many-hosts.rst, "The multi-host lab").
    """
    if count < 2:
        raise ValueError("a lab has at least 2 hosts (tools/single-host: 1)")
    hosts = []
    for i in range(1, count + 1):
        if i == 1:
            roles = [CONTROLLER, STORAGE, NETWORK]
            if hva_on_controller:
                roles.append(COMPUTE)
        else:
            roles = [COMPUTE]
        hosts.append(Host(i, tuple(roles)))
    return hosts


class HostPaths:
    """Where a host's own directories live in the lab dir, and where the
    host sees them (`mounts`)."""

    def __init__(self, lab_dir: str, host: Host):
        self.host = host
        self.root = os.path.join(lab_dir, host.short)
        self.lab_dir = lab_dir

    def path(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    @property
    def run_dir(self) -> str:
        return self.path("run")

    @property
    def log_dir(self) -> str:
        return self.path("log")

    @property
    def config(self) -> str:
        """arame.conf as the host sees it at /etc/arame/arame.conf."""
        return self.path("etc", "arame", "arame.conf")

    @property
    def units_dir(self) -> str:
        return self.path("etc", "systemd", "system")

    @property
    def libvirt_socket(self) -> str:
        """Its libvirtd's socket, reached from outside the host."""
        return self.path("run", "libvirt", "libvirt-sock")

    @property
    def state_dir(self) -> str:
        """/var/lib/arame on this host."""
        return self.path("var", "lib", "arame")

    def mounts(self) -> list[tuple[str, str]]:
        """(lab dir, path on the host), in mount order. The image store
        is shared by every host, as an NFS mount would be on real ones:
        hva reads image bytes there until a storage node serves them."""
        out = [
            (self.path("etc", "arame"), "/etc/arame"),
            (self.path("etc", "libvirt"), "/etc/libvirt"),
            (self.path("run", "libvirt"), "/run/libvirt"),
            (self.path("var", "lib", "libvirt"), "/var/lib/libvirt"),
            (self.path("var", "log", "libvirt"), "/var/log/libvirt"),
            (self.path("var", "cache", "libvirt"), "/var/cache/libvirt"),
            (self.state_dir, "/var/lib/arame"),
            (
                os.path.join(self.lab_dir, "shared", "images"),
                "/var/lib/arame/images",
            ),
        ]
        if STORAGE in self.host.roles:
            # tgtd's control socket: the host's own tgtd, nobody else's
            # (lab/storage.py).
            out.append((self.path("run", "tgtd"), "/run/tgtd"))
        return out

    def make(self) -> None:
        for src, _ in self.mounts():
            os.makedirs(src, mode=0o755, exist_ok=True)
        for d in (self.run_dir, self.log_dir, self.units_dir):
            os.makedirs(d, mode=0o755, exist_ok=True)
        # The mount point of the shared store, inside the host's state.
        os.makedirs(
            os.path.join(self.state_dir, "images"), mode=0o755, exist_ok=True
        )
        os.chmod(self.path("etc", "arame"), 0o700)
        etc_libvirt = self.path("etc", "libvirt")
        if not os.path.exists(os.path.join(etc_libvirt, "qemu.conf")):
            shutil.copytree("/etc/libvirt", etc_libvirt, dirs_exist_ok=True)
        qemu_without_mount_namespaces(os.path.join(etc_libvirt, "qemu.conf"))
        qemu_dir = self.path("var", "lib", "libvirt", "qemu")
        os.makedirs(qemu_dir, exist_ok=True)
        shutil.chown(qemu_dir, "libvirt-qemu", "libvirt-qemu")
        os.chmod(qemu_dir, 0o750)


class Namespaces:
    """Making and removing the lab's namespaces and links."""

    def __init__(self, lab_dir: str, hosts: list[Host]):
        self.lab_dir = lab_dir
        self.hosts = hosts
        self.pin_dir = os.path.join(lab_dir, "ns")

    def pin(self, host: Host, kind: str) -> str:
        return os.path.join(self.pin_dir, f"{host.short}.{kind}")

    def enter(self, host: Host) -> list[str]:
        """The prefix that runs a command on `host`. nsenter, not `ip
        netns exec`: that one makes a mount namespace of its own, and the
        host's (its /run/libvirt, /etc/arame ...) would be lost."""
        return [
            "nsenter",
            f"--net=/run/netns/{host.netns}",
            f"--mount={self.pin(host, 'mnt')}",
            f"--uts={self.pin(host, 'uts')}",
            "--",
        ]

    # -- up -----------------------------------------------------------------
    def make(self) -> None:
        self._make_pin_dir()
        _netns_add(SWITCH_NETNS)
        sw = ["ip", "-n", SWITCH_NETNS]
        run(sw + ["link", "set", "lo", "up"])
        for br in (MGMT_BRIDGE, UNDERLAY_BRIDGE):
            if run(sw + ["link", "show", br], check=False).returncode:
                run(sw + ["link", "add", br, "type", "bridge"])
            run(sw + ["link", "set", br, "up"])
        # The hosts' own management and underlay traffic: no firewall of
        # the switch's in the way.
        for host in self.hosts:
            self._make_host(host)

    def _make_pin_dir(self) -> None:
        """A private mount of its own: a namespace can be pinned (bind
        mounted onto a file) only on a mount that does not propagate."""
        os.makedirs(self.pin_dir, mode=0o700, exist_ok=True)
        if not _pinned(self.pin_dir):
            run(["mount", "--bind", self.pin_dir, self.pin_dir])
        run(["mount", "--make-private", self.pin_dir])

    def _make_host(self, host: Host) -> None:
        _netns_add(host.netns)
        h = ["ip", "-n", host.netns]
        run(h + ["link", "set", "lo", "up"])
        for dev, br, tag, addr in (
            (MGMT_DEV, MGMT_BRIDGE, "m", host.mgmt_ip),
            (UNDERLAY_DEV, UNDERLAY_BRIDGE, "u", host.underlay_ip),
        ):
            peer = f"alab-{host.short}-{tag}"
            if run(h + ["link", "show", dev], check=False).returncode:
                # Made in the switch, its far end straight into the host:
                # no link of the lab ever appears in this machine's own
                # namespace.
                run(
                    ["ip", "-n", SWITCH_NETNS, "link", "add", peer]
                    + ["type", "veth", "peer", "name", dev]
                    + ["netns", host.netns]
                )
                run(h + ["addr", "add", f"{addr}/24", "dev", dev])
            run(
                ["ip", "-n", SWITCH_NETNS, "link", "set", peer]
                + ["master", br, "up"]
            )
            run(h + ["link", "set", dev, "up"])
        self._make_host_namespaces(host)

    def _make_host_namespaces(self, host: Host) -> None:
        mnt, uts = self.pin(host, "mnt"), self.pin(host, "uts")
        if _pinned(mnt) and _pinned(uts):
            return
        for pin in (mnt, uts):
            open(pin, "a").close()
        # Slave: mounts made later on the machine (a ZFS dataset) still
        # reach the host; the host's own bind mounts stay its own.
        run(
            ["nsenter", f"--net=/run/netns/{host.netns}", "unshare"]
            + [f"--mount={mnt}", f"--uts={uts}", "--propagation", "slave"]
            + ["true"]
        )
        for d in ("/etc/arame", "/run/tgtd"):
            if not os.path.isdir(d):
                # The mount point of the host's own (an empty dir).
                os.makedirs(d, mode=0o755)
        self._drop_copied_mounts(mnt)
        paths = HostPaths(self.lab_dir, host)
        for src, dst in paths.mounts():
            run(["nsenter", f"--mount={mnt}", "mount", "--bind", src, dst])
        run(["nsenter", f"--uts={uts}", "hostname", host.name])

    @staticmethod
    def _drop_copied_mounts(mnt: str) -> None:
        """A new mount namespace holds a copy of every mount of the
        moment: a ZFS dataset (zfs-fuse) mounted now would stay busy in
        it for as long as the lab runs (runner.in_netns), and a copy of
        /run/netns/arame-lab would keep that namespace (and its links)
        alive after its owner deleted it. The hosts need none of them:
        unmount their copies (the machine's stay)."""
        found = run(
            ["nsenter", f"--mount={mnt}", "findmnt", "-rn", "-o"]
            + ["TARGET,FSTYPE"],
            check=False,
        ).stdout
        for line in reversed(found.splitlines()):
            target, _, fstype = line.rpartition(" ")
            if fstype.startswith(("fuse", "zfs", "nsfs")) and target:
                run(
                    ["nsenter", f"--mount={mnt}", "umount", "-l", target],
                    check=False,
                )

    # -- down ---------------------------------------------------------------
    def remove(self) -> None:
        for host in self.hosts:
            for kind in ("mnt", "uts"):
                pin = self.pin(host, kind)
                if _pinned(pin):
                    run(["umount", pin], check=False)
                if os.path.exists(pin):
                    os.unlink(pin)
            if os.path.exists(f"/run/netns/{host.netns}"):
                run(["ip", "netns", "del", host.netns], check=False)
        if os.path.exists(f"/run/netns/{SWITCH_NETNS}"):
            run(["ip", "netns", "del", SWITCH_NETNS], check=False)
        while _pinned(self.pin_dir):
            run(["umount", self.pin_dir])


def netns_exists(name: str) -> bool:
    return os.path.exists(f"/run/netns/{name}")


def lab_netns() -> list[str]:
    """Every namespace of a lab on this machine (ours by name)."""
    if not os.path.isdir("/run/netns"):
        return []
    return sorted(
        n
        for n in os.listdir("/run/netns")
        if n == SWITCH_NETNS
        or (n.startswith(NETNS_PREFIX) and n[len(NETNS_PREFIX) :].isdigit())
    )


def _netns_add(name: str) -> None:
    if not netns_exists(name):
        run(["ip", "netns", "add", name])


def _pinned(path: str) -> bool:
    """Something is mounted on `path` (a namespace on a pin file, the pin
    dir on itself: os.path.ismount cannot tell a bind mount of a
    directory of the same filesystem)."""
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)
