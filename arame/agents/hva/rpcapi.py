"""Client proxy of the hypervisor agent (topic `hva`, server = host name).

Every method is a call with a deadline: the flow that makes it records the
answer (or the failure) as a task event.
"""

from typing import Any

from arame.agents.hva import messages
from arame.common import rpc
from arame.common.context import RpcContext
from arame.common.rpc import version_cap

BINARY = "arame-hva"
TOPIC = "hva"
# How the reasons of the power sync's instance.state reports begin: the
# collector lets the host's own report of the same change (its event, which
# knows the cause) replace such a reason.
SYNC_REASON = "power-state sync"


class HypervisorAPI:
    """1.0 - spawn, destroy, power_on, power_off, reboot, get_console_output,
             list_instances, refresh_ports, update_group_members
    1.1 - attach_volume, detach_volume
    1.2 - get_metrics
    1.3 - remove_image
    1.4 - refresh_host_ports
    1.5 - the iSCSI disks of spawn (root_disk) and attach_volume name their
          CHAP credentials chap_user and chap_secret (were username and
          password; capped below 1.5 the old names go at the old version,
          see messages.py)

    Capped below a method's version (an hva not yet upgraded), the method
    raises VersionCapped (an UnsupportedVersion naming the version) and
    sends nothing: refresh_host_ports' callers ask refresh_ports per guest
    instead; the others have no older message doing the same."""

    VERSION_CAP = "1.5"  # the newest version the class speaks

    def __init__(self) -> None:
        # Capped by [upgrade_levels] hva: the oldest hva running during a
        # rolling upgrade. Every message above 1.0 goes through _call,
        # which refuses it (VersionCapped) when the cap is below.
        self.client = rpc.CappedClient("hva", TOPIC, self.VERSION_CAP)

    def _call(
        self,
        ctxt: RpcContext,
        host: str,
        method: str,
        timeout: float,
        version: str | None = None,
        **kw: Any,
    ) -> Any:
        extra = {}
        if version:
            version_cap.require(self.client, "hva", version, method)
            extra["version"] = version
        return self.client.prepare(
            server=host, **rpc.deadline(timeout), **extra
        ).call(ctxt, method, **kw)

    def _chap_names(self) -> bool:
        """Whether the hosts read chap_user / chap_secret (1.5); if not,
        disks go under the old names at the message's older version."""
        return version_cap.allows(self.client, messages.CHAP_VERSION)

    def spawn(
        self,
        ctxt: RpcContext,
        host: str,
        instance: messages.InstanceSpec,
        timeout: float,
    ) -> dict:
        if not self._chap_names():
            old = messages.instance_with(instance, messages.old_names)
            return self._call(ctxt, host, "spawn", timeout, instance=old)
        return self._call(
            ctxt,
            host,
            "spawn",
            timeout,
            version=messages.CHAP_VERSION,
            instance=instance,
        )

    def destroy(
        self, ctxt: RpcContext, host: str, instance_id: str, timeout: float
    ) -> dict:
        return self._call(
            ctxt, host, "destroy", timeout, instance_id=instance_id
        )

    def cast_destroy(
        self, ctxt: RpcContext, host: str, instance_id: str
    ) -> None:
        """For the reconciler: remove a domain no live instance owns."""
        self.client.prepare(server=host).cast(
            ctxt, "destroy", instance_id=instance_id
        )

    def power_on(
        self, ctxt: RpcContext, host: str, instance_id: str, timeout: float
    ) -> dict:
        return self._call(
            ctxt, host, "power_on", timeout, instance_id=instance_id
        )

    def power_off(
        self, ctxt: RpcContext, host: str, instance_id: str, timeout: float
    ) -> dict:
        return self._call(
            ctxt, host, "power_off", timeout, instance_id=instance_id
        )

    def reboot(
        self, ctxt: RpcContext, host: str, instance_id: str, timeout: float
    ) -> dict:
        return self._call(
            ctxt, host, "reboot", timeout, instance_id=instance_id
        )

    def get_console_output(
        self, ctxt: RpcContext, host: str, instance_id: str, timeout: float
    ) -> dict:
        return self._call(
            ctxt, host, "get_console_output", timeout, instance_id=instance_id
        )

    def get_metrics(
        self,
        ctxt: RpcContext,
        host: str,
        instance_id: str,
        since: float | None,
        timeout: float,
    ) -> dict:
        """{"instance_id", "interval" (seconds; 0: sampling is off),
        "samples": [{"at" (seconds since the epoch), "cpu_percent",
        "memory_used_mb", "memory_mb", "disk_read_bps", "disk_write_bps",
        "net_rx_bps", "net_tx_bps"}]}: those after `since` (seconds since
        the epoch; None: every one kept), oldest first."""
        return self._call(
            ctxt,
            host,
            "get_metrics",
            timeout,
            version="1.2",
            instance_id=instance_id,
            since=since,
        )

    def remove_image(
        self, ctxt: RpcContext, host: str, image_id: str, timeout: float
    ) -> dict:
        """A deleted image leaves the host's image cache and local store:
        {"image_id", "cache": "removed" | "absent" | "kept", "in_use_by":
        [instance ids], "store": "removed" | "absent"}. "kept": guests
        still use the cache entry; it goes with the last of them."""
        return self._call(
            ctxt,
            host,
            "remove_image",
            timeout,
            version="1.3",
            image_id=image_id,
        )

    def refresh_ports(
        self,
        ctxt: RpcContext,
        host: str,
        instance_id: str,
        ports: list,
        timeout: float,
    ) -> dict:
        return self._call(
            ctxt,
            host,
            "refresh_ports",
            timeout,
            instance_id=instance_id,
            ports=ports,
        )

    def refresh_host_ports(
        self,
        ctxt: RpcContext,
        host: str,
        members: dict[str, list],
        groups: dict[str, list],
        addresses: dict[str, list],
        timeout: float,
    ) -> dict:
        """1.4: refresh_ports for several guests of the host in one batch:
        a group's rules changed and every member on the host is
        re-rendered by one set of restores. What the guests share is sent
        once: members {instance id: ports}, each port naming its groups
        ("security_groups": [{"id"}]) and those whose members its rules
        use ("group_members": [ids]); groups {id: rules}; addresses {id:
        member addresses} (50 members of 5 groups of 100 rules: 50 kB,
        not 2 MB). {"instances": n, "ports": n}. A guest not on the host:
        InstanceNotFound, after the others were applied. An hva older
        than 1.4 answers UnsupportedVersion, and below a cap of 1.4
        VersionCapped (one) is raised before anything is sent: ask it
        refresh_ports (1.0) per guest, as the security group flow does."""
        return self._call(
            ctxt,
            host,
            "refresh_host_ports",
            timeout,
            version="1.4",
            members=members,
            groups=groups,
            addresses=addresses,
        )

    def update_group_members(
        self, ctxt: RpcContext, host: str, group_id: str, addresses: list[str]
    ) -> None:
        """A cast: idempotent, and the next change or refresh carries the
        whole set again."""
        self.client.prepare(server=host).cast(
            ctxt,
            "update_group_members",
            group_id=group_id,
            addresses=addresses,
        )

    def list_instances(
        self, ctxt: RpcContext, host: str, timeout: float
    ) -> dict:
        return self._call(ctxt, host, "list_instances", timeout)

    def attach_volume(
        self,
        ctxt: RpcContext,
        host: str,
        instance_id: str,
        volume: messages.IscsiDisk,
        timeout: float,
    ) -> dict:
        """volume: {"volume_id", "portal", "iqn", "lun", "chap_user",
        "chap_secret"} (the secret becomes a libvirt secret on the host).
        {"device": "vdb"}; the same volume twice answers the same."""
        if not self._chap_names():
            return self._call(
                ctxt,
                host,
                "attach_volume",
                timeout,
                version="1.1",
                instance_id=instance_id,
                volume=messages.old_names(volume),
            )
        return self._call(
            ctxt,
            host,
            "attach_volume",
            timeout,
            version=messages.CHAP_VERSION,
            instance_id=instance_id,
            volume=volume,
        )

    def detach_volume(
        self,
        ctxt: RpcContext,
        host: str,
        instance_id: str,
        volume_id: str,
        timeout: float,
    ) -> dict:
        """{} once the guest let the disk go (a disk already gone too)."""
        return self._call(
            ctxt,
            host,
            "detach_volume",
            timeout,
            version="1.1",
            instance_id=instance_id,
            volume_id=volume_id,
        )
