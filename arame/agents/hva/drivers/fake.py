"""A hypervisor in memory: for unit tests, the all-in-one and scale benchmarks.

It keeps the contract of the real driver (idempotent operations, power
states, console text) so that flows behave the same on top of it. With
`[fake_hva] state_file` its guests outlive the agent, as a real
hypervisor's do: loaded at start, saved after every change (statefile.py).
"""

import re
import threading
import time

from arame.agents import statefile
from arame.agents.hva import messages
from arame.agents.hva.drivers.base import (
    DEVICE_NAMES,
    HypervisorDriver,
    InstanceNotFound,
    NoFreeDevice,
)
from arame.common.conf import CONF


class FakeDriver(HypervisorDriver):
    hypervisor_type = "fake"

    def __init__(self, host: str, state_file: str | None = None):
        super().__init__(host)
        self._lock = threading.Lock()
        self._state = statefile.open_state(
            CONF.fake_hva.state_file if state_file is None else state_file
        )
        self._guests: dict[str, dict] = self._load()

    # -- the state file ----------------------------------------------------
    def _load(self) -> dict[str, dict]:
        if self._state is None:
            return {}
        guests = self._state.load().get("guests") or {}
        return {
            iid: {k: v for k, v in g.items() if k != "host"}
            for iid, g in guests.items()
            if g.get("host") == self.host
        }

    def _save(self) -> None:
        """After every change, with self._lock held. The hosts of one
        process share the file: only this host's guests are replaced."""
        if self._state is None:
            return
        mine = {
            iid: {**g, "host": self.host} for iid, g in self._guests.items()
        }

        def change(doc):
            others = {
                iid: g
                for iid, g in (doc.get("guests") or {}).items()
                if g.get("host") != self.host
            }
            doc["guests"] = {**others, **mine}

        self._state.update(change)

    def get_inventory(self) -> dict:
        c = CONF.fake_hva
        return {
            "vcpus": c.vcpus,
            "memory_mb": c.memory_mb,
            "disk_gb": c.disk_gb,
            "hypervisor_type": self.hypervisor_type,
            "storage_address": c.iscsi_initiator_address or None,
        }

    def list_instances(self) -> dict[str, str]:
        with self._lock:
            return {i: g["power_state"] for i, g in self._guests.items()}

    def spawn(self, instance: messages.InstanceSpec) -> str:
        iid = instance["id"]
        with self._lock:
            g = self._guests.get(iid)
            if g is not None and g["power_state"] == "running":
                # Asked again (a retry, a resumed flow): it runs already.
                return "running"
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
            # setdefault: a spawn of the same id that slept beside this one
            # found the same guest, not a second one.
            g = self._guests.setdefault(
                iid,
                {
                    "console": [
                        f"[fake] {instance['hostname']} booted on {self.host}",
                        f"[fake] authorized keys: {len(keys)}",
                    ]
                    + [
                        f"[fake] key: {k.split()[0]} {k.split()[1][-12:]}"
                        for k in keys
                    ],
                    # What guest_stats makes counters of.
                    "started": _clock(),
                    "vcpus": instance.get("vcpus") or 1,
                    "memory_mb": instance.get("memory_mb") or 512,
                    "account_id": instance.get("account_id") or "",
                    "unit_id": instance.get("unit_id") or "",
                },
            )
            g["power_state"] = "running"
            self._save()
        return "running"

    def destroy(self, instance_id: str) -> None:
        with self._lock:
            if self._guests.pop(instance_id, None) is not None:
                self._save()

    def _guest(self, instance_id):
        g = self._guests.get(instance_id)
        if g is None:
            raise InstanceNotFound(instance_id)
        return g

    def _set_power(self, instance_id: str, state: str, line: str) -> str:
        with self._lock:
            g = self._guest(instance_id)
            # Already there (asked twice): nothing happens, as on a real
            # hypervisor.
            if g["power_state"] != state:
                g["power_state"] = state
                g["console"].append(line)
                self._save()
        return state

    def power_on(self, instance_id: str) -> str:
        return self._set_power(instance_id, "running", "[fake] powered on")

    def power_off(self, instance_id: str) -> str:
        return self._set_power(instance_id, "shutdown", "[fake] powered off")

    def reboot(self, instance_id: str) -> str:
        with self._lock:
            g = self._guest(instance_id)
            g["power_state"] = "running"
            g["console"].append("[fake] rebooted")
            self._save()
        return "running"

    def get_console_output(self, instance_id: str) -> str:
        with self._lock:
            return "\n".join(self._guest(instance_id)["console"]) + "\n"

    def guest_stats(self) -> dict[str, dict]:
        now = _clock()
        with self._lock:
            return {
                iid: _counters(g, now)
                for iid, g in self._guests.items()
                if g["power_state"] == "running"
            }

    # A fake guest has a root disk (vda) and a config drive (vdb), as a
    # libvirt guest from a disk image.
    _FIXED_DISKS = ("vda", "vdb")

    def attach_volume(
        self, instance_id: str, volume: messages.IscsiDisk
    ) -> dict:
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
                self._save()
            return {"device": disks[vid]}

    def detach_volume(self, instance_id: str, volume_id: str) -> None:
        with self._lock:
            g = self._guests.get(instance_id)
            device = g and g.get("volumes", {}).pop(volume_id, None)
            if device:
                g["console"].append(
                    f"[fake] disk {device} removed ({volume_id})"
                )
                self._save()

    def volumes(self, instance_id: str) -> dict[str, str]:
        """Test hook: volume id -> device of a guest."""
        with self._lock:
            return dict(self._guest(instance_id).get("volumes", {}))

    def crash(self, instance_id: str) -> None:
        """Test hook: the guest dies without being asked."""
        with self._lock:
            self._guest(instance_id)["power_state"] = "crashed"
            self._save()
        self.emit_event(instance_id, "crashed", "guest died", event="crashed")


# The guests' age, for their counters (tests move it; `time` itself may be
# replaced where a test moves the boot's sleep).
_clock = time.time


def _counters(guest: dict, now: float) -> dict:
    """Counters that grow with the guest's age: a fifth of each vcpu busy,
    a quarter of its memory used, steady disk and network traffic (guests
    of a state file written before these were kept count from now)."""
    up = max(0.0, now - guest.setdefault("started", now))
    vcpus = guest.get("vcpus") or 1
    memory_mb = guest.get("memory_mb") or 512
    return {
        "cpu_time_ns": int(up * vcpus * 0.2e9),
        "vcpus": vcpus,
        "memory_mb": memory_mb,
        "memory_used_mb": memory_mb / 4,
        "disk_read_bytes": int(up * 64 * 1024),
        "disk_write_bytes": int(up * 16 * 1024),
        "net_rx_bytes": int(up * 8 * 1024),
        "net_tx_bytes": int(up * 4 * 1024),
        "account_id": guest.get("account_id") or "",
        "unit_id": guest.get("unit_id") or "",
    }
