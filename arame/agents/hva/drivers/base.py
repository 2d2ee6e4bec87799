"""The hypervisor driver interface: what hva needs from libvirt (or a fake).

One driver object per host it manages. Every operation is idempotent: the
same spawn twice leaves one running guest, destroying a missing guest is
success. Power states are the strings in POWER_STATES.
"""

import abc

from oslo_concurrency import lockutils

from arame.agents.hva import messages

POWER_STATES = ("running", "shutdown", "crashed", "paused", "nostate")


class HypervisorDriver(abc.ABC):
    #: reported to the scheduler as the host's hypervisor_type
    hypervisor_type = "unknown"

    def __init__(self, host: str):
        self.host = host
        self._event_callback = None

    def register_event_callback(self, callback) -> None:
        """callback(instance_id, power_state, reason, **extra) for changes
        nobody asked for (a guest crashed, HA restarted it, it was powered
        off from inside); extra: `event` (what happened) and `duration_ms`."""
        self._event_callback = callback

    def emit_event(
        self, instance_id: str, power_state: str, reason: str, **extra
    ):
        if self._event_callback is not None:
            self._event_callback(instance_id, power_state, reason, **extra)

    def reports_change(self, instance_id: str, power_state: str) -> bool:
        """True while the driver reports this guest's change itself (an
        event on its way or just sent): the power sync, seeing the guest
        `power_state`, leaves it to the driver. This driver's events are
        sent as the change is made: nothing to leave."""
        return False

    def instance_lock(self, instance_id: str):
        """Serialises everything done to one guest: RPC operations (taken by
        the manager) and what the driver does on its own (HA restarts)."""
        return lockutils.lock(f"hva-{self.host}-{instance_id}")

    def init_host(self) -> None:
        """Called once when the agent starts."""

    @abc.abstractmethod
    def get_inventory(self) -> dict:
        """{"vcpus", "memory_mb", "disk_gb", "hypervisor_type"}"""

    @abc.abstractmethod
    def list_instances(self) -> dict[str, str]:
        """Every guest this driver sees: instance id -> power state."""

    @abc.abstractmethod
    def spawn(self, instance: messages.InstanceSpec) -> str:
        """Create and start the guest; return its power state."""

    @abc.abstractmethod
    def destroy(self, instance_id: str) -> None:
        """Stop and remove the guest and everything made for it."""

    @abc.abstractmethod
    def power_on(self, instance_id: str) -> str: ...

    @abc.abstractmethod
    def power_off(self, instance_id: str) -> str: ...

    @abc.abstractmethod
    def reboot(self, instance_id: str) -> str: ...

    @abc.abstractmethod
    def get_console_output(self, instance_id: str) -> str: ...

    def attach_volume(
        self, instance_id: str, volume: messages.IscsiDisk
    ) -> dict:
        """Hot-plug a data volume (the guest's config too, so it stays
        after a stop; only the config when the guest is off). `volume`:
        {"volume_id", "portal", "iqn", "lun", "chap_user", "chap_secret"}.
        Returns {"device": "vdb"}: the same answer for an attached one.
        InstanceNotFound when the guest is not here."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot attach volumes"
        )

    def detach_volume(self, instance_id: str, volume_id: str) -> None:
        """Unplug it and wait (bounded) until the guest let it go; a volume
        or guest already gone is success. VolumeBusy at the deadline."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot detach volumes"
        )

    def guest_stats(self) -> dict[str, dict]:
        """Raw counters of every running guest, read at once: instance id
        -> {"cpu_time_ns", "vcpus", "memory_mb", "memory_used_mb",
        "disk_read_bytes", "disk_write_bytes", "net_rx_bytes",
        "net_tx_bytes", "account_id", "unit_id"}. The byte and CPU
        counters only grow while the guest's process lives (metrics.py
        makes rates of them). Drivers that cannot tell answer {}."""
        return {}

    def remove_image(self, image_id: str) -> dict:
        """A deleted image leaves this host: {"image_id", "cache":
        "removed" | "absent" | "kept", "in_use_by": [instance ids],
        "store": "removed" | "absent"}. Drivers that keep no images have
        nothing to remove."""
        return {
            "image_id": image_id,
            "cache": "absent",
            "in_use_by": [],
            "store": "absent",
        }

    def refresh_ports(self, instance_id: str, ports: list[dict]) -> None:
        """Re-apply a guest's firewall from its ports' current rules (its
        security groups changed). Drivers without a firewall ignore it."""

    def refresh_host_ports(self, members: dict[str, list[dict]]) -> None:
        """refresh_ports for several guests ({instance id: ports}); drivers
        with a firewall apply them as one batch. A guest not here raises
        InstanceNotFound once the others are applied."""
        missing = []
        for iid, ports in sorted(members.items()):
            try:
                self.refresh_ports(iid, ports)
            except InstanceNotFound:
                missing.append(iid)
        if missing:
            raise InstanceNotFound(f"not on this host: {', '.join(missing)}")

    def update_group_members(
        self, group_id: str, addresses: list[str]
    ) -> None:
        """A group's member addresses changed: every rule on this host that
        names the group sees the new set at once."""


class InstanceNotFound(Exception):
    pass


class VolumeBusy(Exception):
    """The guest did not release a disk before the deadline (it still has
    it; a detach may be asked again)."""


class NoFreeDevice(Exception):
    """Every disk name a guest may have is taken."""


# Data volumes take the disk names after the root disk and the config
# drive: vdc at the earliest on a guest with both, vdb without a root disk.
DEVICE_NAMES = tuple(f"vd{c}" for c in "bcdefghijklmnopqrstuvwxyz")
