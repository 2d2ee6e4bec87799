"""The libvirt hypervisor driver: real guests under QEMU/KVM.

One instance is one persistent domain named after its id, with everything
made for it under `<instances_path>/<id>/` (root overlay, config drive,
console log), a tap per NIC on its network's bridge, and firewall chains.
Destroy removes all of it; every operation is idempotent.

Lifecycle events come from libvirt's event loop (a thread of its own). A
guest that stops without being asked is restarted in place when its
instance is `ha_enabled` (bounded restarts); otherwise it is reported
stopped with the reason (ha.py).
"""

import contextlib
import os
import shutil
import threading
import uuid

import libvirt
from oslo_log import log

from arame.agents.hva import configdrive, messages, networking
from arame.agents.hva.drivers.base import HypervisorDriver, InstanceNotFound
from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.agents.hva.drivers.libvirt import (
    done,
    events,
    ha,
    hotplug,
    image_removal,
    imagecache,
    probe,
    stats,
    storage,
)
from arame.agents.hva.firewall import Firewall
from arame.common import ids
from arame.common.conf import CONF

LOG = log.getLogger(__name__)

_POWER = {
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_BLOCKED: "running",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTDOWN: "running",  # shutting down: still up
    libvirt.VIR_DOMAIN_SHUTOFF: "shutdown",
    libvirt.VIR_DOMAIN_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "paused",
    libvirt.VIR_DOMAIN_NOSTATE: "nostate",
}


# In a guest's directory: the networks its ports are on.
NETWORKS_FILE = "networks"


class LibvirtDriver(HypervisorDriver):
    def __init__(self, host: str):
        super().__init__(host)
        c = CONF.libvirt
        self.uri = c.connection_uri
        self.instances_path = c.instances_path
        self.netns = c.plumbing_netns or None
        self.virt_type = c.virt_type if c.virt_type != "auto" else None
        self.images = imagecache.ImageCache(
            os.path.join(self.instances_path, "_base"),
            imagecache.LocalStore(c.image_store_path),
        )
        self.image_removal = image_removal.ImageRemoval(
            self.images,
            self.images.source,
            self.instances_path,
            image_removal.domain_xml(lambda: self.conn),
        )
        self._conn = None
        self._conn_lock = threading.Lock()
        # What we last asked of each guest: "on" or "off". A stop event for
        # a guest we want on is a crash; for one we want off, our own doing.
        self._desired: dict[str, str] = {}
        self.ha = ha.GuestWatch(self, self._desired)
        self._networking = None
        self._firewall = None
        self.volumes = hotplug.VolumeAttachments(lambda: self.conn)
        self.stats = stats.GuestStats(host, lambda: self.conn)

    # -- set-up ------------------------------------------------------------
    def init_host(self) -> None:
        os.makedirs(self.instances_path, mode=0o755, exist_ok=True)
        if self.virt_type is None:
            self.virt_type, why = probe.probe(
                CONF.libvirt.kvm_probe_cache, CONF.libvirt.kvm_probe_timeout
            )
            LOG.info("domain type %s: %s", self.virt_type, why)
        self.hypervisor_type = self.virt_type
        events.start_loop()
        for dom in self._own_domains():
            self._desired[dom.name()] = "on" if dom.isActive() else "off"
        if self.firewall is not None:
            self.firewall.setup()
            # Chains of guests that are gone (a destroy cut short by a
            # crash of the agent): nothing may filter for a dead guest.
            # Only ports this agent made: several agents may share a lab.
            known = {d.name() for d in self.conn.listAllDomains()}
            for iid in self.firewall.ports() - known:
                LOG.warning(
                    "removing firewall chains of %s: no such guest", iid
                )
                try:
                    self.firewall.remove_port(iid)
                except Exception:
                    # Chains left over never stop the agent from serving.
                    LOG.exception("could not remove the chains of %s", iid)
        self.image_removal.prune_quietly(at_start=True)

    @property
    def conn(self) -> libvirt.virConnect:
        with self._conn_lock:
            if self._conn is None or not self._conn.isAlive():
                self._conn = libvirt.open(self.uri)
                self._conn.domainEventRegisterAny(
                    None,
                    libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                    self.ha.on_lifecycle,
                    None,
                )
                self.volumes.watch(self._conn)
            return self._conn

    @property
    def networking(self):
        if self._networking is None:
            self._networking = networking.LinuxBridgeNetworking(
                netns=self.netns
            )
        return self._networking

    @property
    def firewall(self):
        if self._firewall is None:
            self._firewall = Firewall(netns=self.netns)
        return self._firewall

    def get_inventory(self) -> dict:
        _model, memory_mb, cpus, *_ = self.conn.getInfo()
        st = os.statvfs(self.instances_path)
        disk_gb = st.f_blocks * st.f_frsize // (1 << 30)
        c = CONF.libvirt
        return {
            "vcpus": cpus,
            "memory_mb": max(0, memory_mb - c.reserved_host_memory_mb),
            "disk_gb": max(0, disk_gb - c.reserved_host_disk_gb),
            "hypervisor_type": self.hypervisor_type,
            "storage_address": c.iscsi_initiator_address or None,
        }

    # -- queries -----------------------------------------------------------
    def _domain(self, instance_id: str) -> libvirt.virDomain:
        try:
            return self.conn.lookupByName(instance_id)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise InstanceNotFound(instance_id) from e
            raise

    def _power_state(self, dom) -> str:
        return _POWER.get(dom.state()[0], "nostate")

    def _own_domains(self) -> list:
        """Domains this host's agent defined. One libvirtd may serve several
        agents (a lab runs a deployment per test), so the host name is in
        every domain's metadata."""
        out = []
        for d in self.conn.listAllDomains():
            if not ids.is_valid("instance", d.name()):
                continue
            try:
                if xmlconf.read_metadata(d.XMLDesc()).get("host") == self.host:
                    out.append(d)
            except libvirt.libvirtError:
                continue  # undefined meanwhile
        return out

    def list_instances(self) -> dict[str, str]:
        out = {}
        for d in self._own_domains():
            try:
                out[d.name()] = self._power_state(d)
            except libvirt.libvirtError as e:
                # Undefined between the listing and this read (a delete
                # in flight): it is not this host's any more.
                if e.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
        return out

    def reports_change(self, instance_id: str, power_state: str) -> bool:
        return self.ha.reports_stop(instance_id, power_state)

    def guest_stats(self) -> dict[str, dict]:
        return self.stats.read()

    def get_console_output(self, instance_id: str) -> str:
        self._domain(instance_id)
        path = self._path(instance_id, "console.log")
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 128 * 1024))
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def _path(self, instance_id: str, *names) -> str:
        if not ids.is_valid("instance", instance_id):
            raise ValueError(f"not an instance id: {instance_id!r}")
        return os.path.join(self.instances_path, instance_id, *names)

    # -- spawn -------------------------------------------------------------
    def _network_locks(self, network_ids) -> contextlib.ExitStack:
        """Hold every network's lock (in one order: no deadlock) while its
        bridge must not go: from ensure_network until the domain's tap is
        on it, and from undefine until release_network decided."""
        stack = contextlib.ExitStack()
        for nid in sorted(set(network_ids)):
            stack.enter_context(self.networking.network_lock(nid))
        return stack

    def spawn(self, instance: messages.InstanceSpec) -> str:
        iid = instance["id"]
        self._desired[iid] = "on"
        nets = [p["network"]["id"] for p in instance.get("ports") or []]
        with self._network_locks(nets):
            try:
                dom = self._domain(iid)
            except InstanceNotFound:
                dom = self._define(instance)
            if not dom.isActive():
                done.start(dom)
        return self._power_state(dom)

    def _define(self, instance: dict) -> libvirt.virDomain:
        iid = instance["id"]
        idir = self._path(iid)
        os.makedirs(idir, mode=0o755, exist_ok=True)
        # Before any bridge is made for it: a destroy after a crash of
        # this spawn (or one that undefined the domain and then died)
        # still knows which networks to release.
        _write(
            self._path(iid, NETWORKS_FILE),
            " ".join(p["network"]["id"] for p in instance.get("ports") or []),
        )
        root = instance.get("root_disk")
        if root:
            # A volume on a storage node: boot from it, nothing local.
            image = {}
            disks = [
                storage.iscsi_root(
                    root, self._ensure_secret(iid, root["chap_secret"])
                )
            ]
        else:
            image = self.images.fetch(instance["image"])
            disks = [storage.root_disk(idir, image, instance["disk_gb"])]
            if disks[0] is None:
                disks = []
        drive = os.path.join(idir, "config.iso")
        configdrive.build(
            drive,
            instance_id=iid,
            hostname=instance["hostname"],
            public_keys=instance.get("public_keys") or [],
            user_data=instance.get("user_data"),
        )
        disks.append(
            xmlconf.FileDisk(
                path=drive,
                target=f"vd{'ab'[len(disks)]}",
                format="raw",
                readonly=True,
                serial="cidata",
            )
        )
        nics = [
            self._plug(iid, i, port)
            for i, port in enumerate(instance.get("ports") or [])
        ]
        guest = xmlconf.Guest(
            name=iid,
            uuid=str(uuid.uuid4()),
            virt_type=self.virt_type,
            vcpus=instance["vcpus"],
            memory_mb=instance["memory_mb"],
            machine=CONF.libvirt.machine_type,
            console_log=os.path.join(idir, "console.log"),
            disks=tuple(disks),
            nics=tuple(nics),
            kernel=image.get("kernel"),
            initrd=image.get("initrd"),
            cmdline=CONF.libvirt.kernel_cmdline
            if image.get("kernel")
            else None,
            hotplug_ports=hotplug.max_volumes(),
            metadata={
                "host": self.host,
                "ha_enabled": int(bool(instance.get("ha_enabled", True))),
                "account_id": instance.get("account_id", ""),
                # The labels of its metrics (stats.py).
                "unit_id": instance.get("unit_id") or "",
                "networks": " ".join(
                    p["network"]["id"] for p in instance.get("ports") or []
                ),
            },
        )
        LOG.info(
            "defining %s (%s, %d vcpu, %d MiB)",
            iid,
            self.virt_type,
            guest.vcpus,
            guest.memory_mb,
        )
        return self._define_xml(iid, xmlconf.domain_xml(guest))

    def _define_xml(self, iid: str, xml: str) -> libvirt.virDomain:
        """defineXML, where a domain of this name defined since the lookup
        (a spawn of the same guest got there first) is the answer: libvirt
        refuses the second definition ("already exists with uuid")."""
        try:
            return self.conn.defineXML(xml)
        except libvirt.libvirtError as e:
            if not done.already_exists(e):
                raise
            LOG.info("%s: defined meanwhile, using it (%s)", iid, e)
            return self._domain(iid)

    def _plug(self, iid: str, index: int, port: dict) -> xmlconf.Nic:
        net = port["network"]
        bridge = self.networking.ensure_network(net)
        tap = self.networking.tap_name(iid, index)
        if self.firewall is not None and index == 0:
            # One filtered NIC per guest: an instance has one network.
            self.firewall.apply_port(self._firewall_port(iid, index, port))
        return xmlconf.Nic(
            mac=port["mac"], bridge=bridge, tap=tap, mtu=net.get("mtu")
        )

    def remove_image(self, image_id: str) -> dict:
        return self.image_removal.remove(image_id)

    def refresh_ports(self, instance_id: str, ports: list[dict]) -> None:
        if self.firewall is None or not ports:
            return
        self._domain(instance_id)
        self.firewall.apply_port(self._firewall_port(instance_id, 0, ports[0]))

    def refresh_host_ports(self, members: dict[str, list[dict]]) -> None:
        if self.firewall is None:
            return
        batch, missing = [], []
        for iid, ports in sorted(members.items()):
            if not ports:
                continue
            try:
                self._domain(iid)
            except InstanceNotFound:
                missing.append(iid)
                continue
            batch.append(self._firewall_port(iid, 0, ports[0]))
        self.firewall.apply_ports(batch)
        if missing:
            raise InstanceNotFound(f"not on this host: {', '.join(missing)}")

    def update_group_members(
        self, group_id: str, addresses: list[str]
    ) -> None:
        if self.firewall is not None:
            self.firewall.set_group_members(group_id, addresses)

    def _firewall_port(self, iid: str, index: int, port: dict) -> dict:
        return {
            "instance_id": iid,
            "device": self.networking.tap_name(iid, index),
            "mac": port["mac"],
            "ip": port["ip"],
            "security_groups": port.get("security_groups") or [],
            "group_members": port.get("group_members") or {},
        }

    def _ensure_secret(self, iid: str, chap_secret: str) -> str:
        """The root volume's CHAP secret as a private libvirt secret (the
        domain XML names only its UUID). Same UUID for the same guest: a
        second spawn redefines, never duplicates."""
        u = storage.secret_uuid(iid)
        xml = (
            f"<secret ephemeral='no' private='yes'><uuid>{u}</uuid>"
            f"<usage type='iscsi'><target>{iid}-root</target></usage>"
            f"</secret>"
        )
        sec = self.conn.secretDefineXML(xml)
        sec.setValue(chap_secret.encode())
        return u

    def _remove_secret(self, iid: str) -> None:
        try:
            self.conn.secretLookupByUUIDString(
                storage.secret_uuid(iid)
            ).undefine()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_NO_SECRET:
                raise

    # -- destroy -----------------------------------------------------------
    def destroy(self, instance_id: str) -> None:
        self._desired[instance_id] = "off"
        networks = []
        try:
            dom = self._domain(instance_id)
        except InstanceNotFound:
            dom = None
        if dom is not None:
            try:
                networks = (
                    xmlconf.read_metadata(dom.XMLDesc())
                    .get("networks", "")
                    .split()
                )
            except libvirt.libvirtError as e:
                if e.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
                dom = None  # undefined since the lookup: gone is done
        if dom is None:
            networks = self._recorded_networks(instance_id)
        with self._network_locks(networks):
            if dom is not None:
                done.ignore(dom.destroy, done.NOT_RUNNING, done.GONE)
                done.ignore(
                    lambda: dom.undefineFlags(
                        libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
                        | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                    ),
                    done.GONE,
                )
            if self.firewall is not None:
                self.firewall.remove_port(instance_id)
            for net_id in networks:
                self.networking.release_network(net_id)
        self._remove_secret(instance_id)
        self.volumes.remove_secrets(instance_id)
        shutil.rmtree(self._path(instance_id), ignore_errors=True)
        self._desired.pop(instance_id, None)
        self.ha.forget(instance_id)
        # Its image may be a deleted one it was the last to use.
        self.image_removal.prune_quietly()

    def _recorded_networks(self, instance_id: str) -> list[str]:
        """The networks _define wrote down for a guest whose domain is gone
        (a destroy or a spawn cut short): released again, harmlessly."""
        try:
            with open(self._path(instance_id, NETWORKS_FILE)) as f:
                found = f.read().split()
        except FileNotFoundError:
            return []
        return [n for n in found if ids.is_valid("network", n)]

    # -- data volumes (hotplug.py) -----------------------------------------
    def attach_volume(
        self, instance_id: str, volume: messages.IscsiDisk
    ) -> dict:
        return self.volumes.attach(self._domain(instance_id), volume)

    def detach_volume(self, instance_id: str, volume_id: str) -> None:
        try:
            dom = self._domain(instance_id)
        except InstanceNotFound:
            self.volumes.remove_secret(instance_id, volume_id)
            return
        self.volumes.detach(dom, volume_id)

    # -- power -------------------------------------------------------------
    def power_on(self, instance_id: str) -> str:
        dom = self._domain(instance_id)
        self._desired[instance_id] = "on"
        if not dom.isActive():
            done.start(dom)
        return self._power_state(dom)

    def power_off(self, instance_id: str) -> str:
        dom = self._domain(instance_id)
        self._desired[instance_id] = "off"
        self._shutdown(dom, CONF.libvirt.shutdown_timeout)
        return self._power_state(dom)

    def reboot(self, instance_id: str) -> str:
        """A clean reboot: ACPI power-off (destroy after the deadline), then
        start. Guests that honour only the power button reboot too."""
        dom = self._domain(instance_id)
        self._desired[instance_id] = "off"
        self._shutdown(dom, CONF.libvirt.shutdown_timeout)
        self._desired[instance_id] = "on"
        done.start(dom)
        return self._power_state(dom)

    def _shutdown(self, dom, timeout: float) -> None:
        if not dom.isActive():
            return
        done.ignore(dom.shutdown, done.NOT_RUNNING)
        if not events.wait_inactive(dom, timeout):
            LOG.warning(
                "%s did not power off within %ss: destroying",
                dom.name(),
                timeout,
            )
            done.ignore(dom.destroy, done.NOT_RUNNING)


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, path)
