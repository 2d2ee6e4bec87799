"""A hypervisor in memory: for unit tests, the all-in-one and scale benchmarks.

It keeps the contract of the real driver (idempotent operations, power
states, console text) so that flows behave the same on top of it.
"""

import re
import threading
import time

from arame.agents.hva.drivers.base import (
    DEVICE_NAMES,
    HypervisorDriver,
    InstanceNotFound,
    NoFreeDevice,
)
from arame.common.conf import CONF


class FakeDriver(HypervisorDriver):
    hypervisor_type = "fake"

    def __init__(self, host: str):
        super().__init__(host)
        self._lock = threading.Lock()
        self._guests: dict[str, dict] = {}

    def get_inventory(self) -> dict:
        c = CONF.fake_hva
        return {
            "vcpus": c.vcpus,
            "memory_mb": c.memory_mb,
            "disk_gb": c.disk_gb,
            "hypervisor_type": self.hypervisor_type,
        }

    def list_instances(self) -> dict[str, str]:
        with self._lock:
            return {i: g["power_state"] for i, g in self._guests.items()}

    def spawn(self, instance: dict) -> str:
        pattern = CONF.fake_hva.fail_spawn_pattern
        if pattern and re.search(pattern, instance["name"]):
            raise RuntimeError(
                f"fake driver refuses to spawn {instance['name']!r} "
                f"(matches fail_spawn_pattern)"
            )
        if CONF.fake_hva.spawn_delay:
            time.sleep(CONF.fake_hva.spawn_delay)  # stands in for a boot
        with self._lock:
            keys = instance.get("public_keys") or []
            g = self._guests.setdefault(
                instance["id"],
                {
                    "console": [
                        f"[fake] {instance['hostname']} booted on {self.host}",
                        f"[fake] authorized keys: {len(keys)}",
                    ]
                    + [
                        f"[fake] key: {k.split()[0]} {k.split()[1][-12:]}"
                        for k in keys
                    ]
                },
            )
            g["power_state"] = "running"
        return "running"

    def destroy(self, instance_id: str) -> None:
        with self._lock:
            self._guests.pop(instance_id, None)

    def _guest(self, instance_id):
        g = self._guests.get(instance_id)
        if g is None:
            raise InstanceNotFound(instance_id)
        return g

    def power_on(self, instance_id: str) -> str:
        with self._lock:
            g = self._guest(instance_id)
            g["power_state"] = "running"
            g["console"].append("[fake] powered on")
        return "running"

    def power_off(self, instance_id: str) -> str:
        with self._lock:
            g = self._guest(instance_id)
            g["power_state"] = "shutdown"
            g["console"].append("[fake] powered off")
        return "shutdown"

    def reboot(self, instance_id: str) -> str:
        with self._lock:
            g = self._guest(instance_id)
            g["power_state"] = "running"
            g["console"].append("[fake] rebooted")
        return "running"

    def get_console_output(self, instance_id: str) -> str:
        with self._lock:
            return "\n".join(self._guest(instance_id)["console"]) + "\n"

    # A fake guest has a root disk (vda) and a config drive (vdb), as a
    # libvirt guest from a disk image.
    _FIXED_DISKS = ("vda", "vdb")

    def attach_volume(self, instance_id: str, volume: dict) -> dict:
        vid = volume["volume_id"]
        with self._lock:
            g = self._guest(instance_id)
            disks = g.setdefault("volumes", {})
            if vid not in disks:
                taken = set(disks.values()) | set(self._FIXED_DISKS)
                free = [d for d in DEVICE_NAMES if d not in taken]
                if not free:
                    raise NoFreeDevice(f"{instance_id} has no free disk name")
                disks[vid] = free[0]
                g["console"].append(f"[fake] disk {disks[vid]} added ({vid})")
            return {"device": disks[vid]}

    def detach_volume(self, instance_id: str, volume_id: str) -> None:
        with self._lock:
            g = self._guests.get(instance_id)
            device = g and g.get("volumes", {}).pop(volume_id, None)
            if device:
                g["console"].append(
                    f"[fake] disk {device} removed ({volume_id})"
                )

    def volumes(self, instance_id: str) -> dict[str, str]:
        """Test hook: volume id -> device of a guest."""
        with self._lock:
            return dict(self._guest(instance_id).get("volumes", {}))

    def crash(self, instance_id: str) -> None:
        """Test hook: the guest dies without being asked."""
        with self._lock:
            self._guest(instance_id)["power_state"] = "crashed"
        self.emit_event(instance_id, "crashed", "guest died", event="crashed")
