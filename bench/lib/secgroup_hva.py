"""arame-hva for bench/secgroups.py: the fake hypervisor with the real
netfilter firewall, in a namespace of the bench's own.

Neither shipped driver is that combination: the fake driver filters
nothing (`refresh_ports` is a no-op) and the libvirt one needs a real
guest per port, which 50 of on two cores would measure QEMU, not the
firewall. So this launcher runs the shipped `arame-hva` daemon (same
service, manager, RPC server and heartbeat) with `load_driver` replaced by
`FirewalledFakeDriver`: guests in memory as the fake driver keeps them,
and for each guest's first port a veth in the bench's namespace, attached
to the bench's bridge, filtered by `NetfilterFirewall` exactly as the
libvirt driver does it (same calls: apply_port at spawn and on
refresh_ports, set_group_members, remove_port at destroy).

Started by bench/secgroups.py as `python3 secgroup_hva.py --config-file
...` with, in its environment:
  ARAME_BENCH_SG_NETNS   the namespace (its iptables, ipsets, ebtables)
  ARAME_BENCH_SG_BRIDGE  the bridge the guests' veths join
  ARAME_BENCH_SG_PREFIX  the run's prefix (every link carries it)
  ARAME_BENCH_SG_TRACE   a JSON-lines file: one line per refresh_ports
                         or refresh_host_ports (one batch)
"""

import json
import os
import sys
import threading
import time

import arame.cmd  # noqa: F401  (threading backend first)
from arame.agents.hva import service
from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.firewall import NetfilterFirewall
from arame.cmd import hva
from arame.common import runner


def link_names(prefix: str, instance_id: str) -> tuple[str, str]:
    """(the tap's stand-in, its peer): prefix + t/p + the id's 8 characters,
    at most 15 with a prefix of 6."""
    suffix = instance_id.split("-", 1)[1]
    return f"{prefix}t{suffix}", f"{prefix}p{suffix}"


class FirewalledFakeDriver(FakeDriver):
    def __init__(self, host: str, state_file: str | None = None):
        super().__init__(host, state_file)
        env = os.environ
        self.netns = env["ARAME_BENCH_SG_NETNS"]
        self.bridge = env["ARAME_BENCH_SG_BRIDGE"]
        self.prefix = env["ARAME_BENCH_SG_PREFIX"]
        self.trace_path = env.get("ARAME_BENCH_SG_TRACE")
        self.firewall = NetfilterFirewall(netns=self.netns)
        self._trace_lock = threading.Lock()

    def init_host(self) -> None:
        super().init_host()
        self.firewall.setup()

    def _ip(self, *args: str) -> runner.Result:
        return runner.run(["ip", *args], netns=self.netns, timeout=30)

    def _plug(self, iid: str) -> str:
        tap, peer = link_names(self.prefix, iid)
        out = self._ip("-o", "link", "show").stdout
        if f" {tap}@" not in out:
            self._ip("link", "add", tap, "type", "veth", "peer", "name", peer)
            self._ip("link", "set", tap, "master", self.bridge)
            self._ip("link", "set", tap, "up")
            self._ip("link", "set", peer, "up")
        return tap

    def _port(self, iid: str, tap: str, port: dict) -> dict:
        # As LibvirtDriver._firewall_port, with the bench's device name.
        return {
            "instance_id": iid,
            "device": tap,
            "mac": port["mac"],
            "ip": port["ip"],
            "security_groups": port.get("security_groups") or [],
            "group_members": port.get("group_members") or {},
        }

    def spawn(self, instance: dict) -> str:
        iid = instance["id"]
        ports = instance.get("ports") or []
        if ports:
            # Before the guest "runs", as libvirt plugs before it starts.
            tap = self._plug(iid)
            self.firewall.apply_port(self._port(iid, tap, ports[0]))
        return super().spawn(instance)

    def destroy(self, instance_id: str) -> None:
        super().destroy(instance_id)
        self.firewall.remove_port(instance_id)
        tap, _ = link_names(self.prefix, instance_id)
        runner.run(
            ["ip", "link", "del", tap],
            netns=self.netns,
            timeout=30,
            ok_codes=(0, 1),
        )

    def refresh_ports(self, instance_id: str, ports: list[dict]) -> None:
        if not ports:
            return
        self._guest(instance_id)  # InstanceNotFound as libvirt's
        tap, _ = link_names(self.prefix, instance_id)
        t0 = time.time()
        self.firewall.apply_port(self._port(instance_id, tap, ports[0]))
        t1 = time.time()
        self._trace(
            {
                "iid": instance_id,
                "start": t0,
                "apply_s": t1 - t0,
                "restore_s": self.firewall.last_restore_s,
            }
        )

    def refresh_host_ports(self, members: dict[str, list[dict]]) -> None:
        # As LibvirtDriver.refresh_host_ports: one firewall batch.
        batch = []
        for iid, ports in sorted(members.items()):
            if ports:
                self._guest(iid)
                tap, _ = link_names(self.prefix, iid)
                batch.append(self._port(iid, tap, ports[0]))
        t0 = time.time()
        self.firewall.apply_ports(batch)
        t1 = time.time()
        self._trace(
            {
                "iids": [p["instance_id"] for p in batch],
                "start": t0,
                "apply_s": t1 - t0,
                "restore_s": self.firewall.last_restore_s,
                # The rules are live from here (0: the batch wrote none).
                "restore_end": self.firewall.last_restore_end,
            }
        )

    def update_group_members(
        self, group_id: str, addresses: list[str]
    ) -> None:
        self.firewall.set_group_members(group_id, addresses)

    def _trace(self, record: dict) -> None:
        if not self.trace_path:
            return
        with self._trace_lock, open(self.trace_path, "a") as f:
            f.write(json.dumps(record) + "\n")


def main() -> int:
    service.load_driver = FirewalledFakeDriver
    return hva.main()


if __name__ == "__main__":
    sys.exit(main())
