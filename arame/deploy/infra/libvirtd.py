"""virtlogd and libvirtd for guests on this machine, libvirtd in the lab
network namespace (labnet.py)."""

import os

from arame.common import runner
from arame.common.waiting import wait_for
from arame.deploy.infra import labnet
from arame.deploy.infra.commands import InfraError, pids, require, run
from arame.deploy.infra.qemuconf import qemu_without_mount_namespaces

_VIRSH = ["virsh", "-c", "qemu:///system"]


class Libvirt:
    """virtlogd and libvirtd, the latter in the lab namespace (only one
    libvirtd can run on a machine)."""

    def __init__(self, netns: str = labnet.LAB_NETNS):
        self.netns = netns

    def ensure_netns(self) -> None:
        labnet.ensure(self.netns)

    @staticmethod
    def remove_guests(doomed) -> list[str]:
        """Destroy and undefine the domains whose XML `doomed(xml)` picks
        (a dropped deployment's, a dead test run's)."""
        removed = []
        for dom in run(
            _VIRSH + ["list", "--all", "--name"], check=False
        ).stdout.split():
            if doomed(run(_VIRSH + ["dumpxml", dom], check=False).stdout):
                run(_VIRSH + ["destroy", dom], check=False)
                run(_VIRSH + ["undefine", "--nvram", dom], check=False)
                removed.append(dom)
        return removed

    def remove_networks(self, network_ids) -> None:
        """See labnet.remove_networks."""
        labnet.remove_networks(self.netns, network_ids)

    def running(self) -> bool:
        return (
            bool(pids("libvirtd"))
            and run(_VIRSH + ["version"], check=False, timeout=60).returncode
            == 0
        )

    def ensure_running(self, timeout: float = 60) -> bool:
        """Start what is missing; raise if libvirtd runs outside the lab."""
        require("libvirtd", "libvirt-daemon-system")
        require("qemu-system-x86_64", "qemu-system-x86")
        self.ensure_netns()
        if not pids("virtlogd"):
            run(["virtlogd", "-d"])
        found = pids("libvirtd")
        if found:
            where = labnet.netns_of(found[0])
            if where != self.netns:
                raise InfraError(
                    f"libvirtd (pid {found[0]}) runs in "
                    f"{'the host namespace' if where == '' else where!r}, not "
                    f"in {self.netns!r}: guests would plug into the host's "
                    f"network. Stop it; it is started again in the lab."
                )
            started = False
        else:
            for stale in ("/run/libvirtd.pid",):
                if os.path.exists(stale):
                    os.unlink(stale)
            qemu_without_mount_namespaces()
            # In the lab's network namespace only (runner.in_netns says why
            # not `ip netns exec`).
            run(runner.in_netns(["libvirtd", "-d"], self.netns))
            started = True
        # The first call waits while libvirt probes qemu (~8 s here).
        wait_for(self.running, timeout, "libvirtd to answer")
        return started
