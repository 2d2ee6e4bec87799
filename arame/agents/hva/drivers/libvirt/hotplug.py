"""Data volumes hot-plugged into a guest: iSCSI disks through qemu's own
initiator, CHAP from a libvirt secret per (guest, volume).

A data volume's disk carries the volume id as its serial: that is how it
is found again in the domain XML (and how the guest tells its disks
apart). A running guest gets the disk live and in its persistent config
(so a stop and start keep it); a guest that is off, in its config only.
Both operations are idempotent: the XML is the state.

Unplugging needs the guest's consent (ACPI eject on PCI): detach asks,
then waits with a deadline until the disk is gone from the live XML,
woken by libvirt's DEVICE_REMOVED event. A guest that keeps the disk past
the deadline leaves it attached (VolumeBusy): the export must stay too.
"""

import threading
import xml.etree.ElementTree as ET

import libvirt
from oslo_log import log

from arame.agents.hva.drivers.base import (
    DEVICE_NAMES,
    NoFreeDevice,
    VolumeBusy,
)
from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.agents.hva.drivers.libvirt import storage
from arame.common import waiting
from arame.common.conf import CONF

LOG = log.getLogger(__name__)

POLL = 0.5  # the longest a missed event can delay noticing a removal

_INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG


def detach_timeout() -> float:
    return CONF.libvirt.detach_timeout


def max_volumes() -> int:
    """Data volumes one guest may have (its spare PCIe ports on q35)."""
    return CONF.hva.max_volumes


def _usage(instance_id: str, volume_id: str) -> str:
    return f"{instance_id}-{volume_id}"


def _find(xml: str, volume_id: str) -> ET.Element | None:
    """The <disk> whose serial is the volume id."""
    for disk in ET.fromstring(xml).findall("devices/disk"):
        serial = disk.find("serial")
        if serial is not None and serial.text == volume_id:
            return disk
    return None


def _target(disk: ET.Element) -> str:
    return disk.find("target").get("dev")


def free_device(*xmls: str) -> str:
    """The first disk name no version of the domain uses."""
    taken = set()
    for xml in xmls:
        taken.update(xmlconf.disks(xml))
    for name in DEVICE_NAMES:
        if name not in taken:
            return name
    raise NoFreeDevice(
        f"no free disk name (taken: {', '.join(sorted(taken))})"
    )


class Removals:
    """DEVICE_REMOVED events, delivered in libvirt's event thread: they
    only wake the detaches waiting; each then reads the XML again."""

    def __init__(self):
        self._cond = threading.Condition()

    def on_removed(self, _conn, dom, alias, _opaque) -> None:
        LOG.debug("%s: device %s removed", dom.name(), alias)
        with self._cond:
            self._cond.notify_all()

    def wait(self, timeout: float) -> None:
        with self._cond:
            self._cond.wait(timeout)


class VolumeAttachments:
    def __init__(self, conn_factory):
        """conn_factory(): the driver's (re)connected libvirt connection."""
        self._conn = conn_factory
        self.removals = Removals()

    def watch(self, conn) -> None:
        """Called on every new connection."""
        conn.domainEventRegisterAny(
            None,
            libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
            self.removals.on_removed,
            None,
        )

    # -- secrets -----------------------------------------------------------
    def _define_secret(
        self, instance_id: str, volume_id: str, chap_secret: str
    ) -> str:
        u = storage.volume_secret_uuid(instance_id, volume_id)
        xml = (
            f"<secret ephemeral='no' private='yes'><uuid>{u}</uuid>"
            f"<usage type='iscsi'><target>{_usage(instance_id, volume_id)}"
            f"</target></usage></secret>"
        )
        sec = self._conn().secretDefineXML(xml)
        sec.setValue(chap_secret.encode())
        return u

    def remove_secret(self, instance_id: str, volume_id: str) -> None:
        u = storage.volume_secret_uuid(instance_id, volume_id)
        try:
            self._conn().secretLookupByUUIDString(u).undefine()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_NO_SECRET:
                raise

    def remove_secrets(self, instance_id: str) -> None:
        """Every data volume secret of a guest (it is being destroyed)."""
        prefix = f"{instance_id}-vol-"
        for sec in self._conn().listAllSecrets():
            try:
                if (sec.usageID() or "").startswith(prefix):
                    sec.undefine()
            except libvirt.libvirtError as e:
                if e.get_error_code() != libvirt.VIR_ERR_NO_SECRET:
                    raise

    # -- attach ------------------------------------------------------------
    def attach(self, dom, volume: dict) -> dict:
        # Every field checked before anything reaches libvirt.
        storage.check_volume(volume)
        iid, vid = dom.name(), volume["volume_id"]
        active = bool(dom.isActive())
        live_xml = dom.XMLDesc(0) if active else ""
        conf_xml = dom.XMLDesc(_INACTIVE)
        in_live = _find(live_xml, vid) if active else None
        in_conf = _find(conf_xml, vid)
        flags = (LIVE if active and in_live is None else 0) | (
            CONFIG if in_conf is None else 0
        )
        known = in_live if in_live is not None else in_conf
        if not flags:
            return {"device": _target(known)}
        device = (
            _target(known)
            if known is not None
            else free_device(live_xml or conf_xml, conf_xml)
        )
        secret = self._define_secret(iid, vid, volume["chap_secret"])
        disk = storage.iscsi_volume(volume, secret, device)
        try:
            dom.attachDeviceFlags(xmlconf.disk_xml(disk), flags)
        except libvirt.libvirtError:
            if known is None:
                self.remove_secret(iid, vid)
            raise
        LOG.info("attached %s to %s as %s", vid, iid, device)
        return {"device": device}

    # -- detach ------------------------------------------------------------
    def detach(self, dom, volume_id: str) -> None:
        iid = dom.name()
        active = bool(dom.isActive())
        in_live = _find(dom.XMLDesc(0), volume_id) if active else None
        in_conf = _find(dom.XMLDesc(_INACTIVE), volume_id)
        if in_conf is not None:
            dom.detachDeviceFlags(
                ET.tostring(in_conf, encoding="unicode"), CONFIG
            )
        if in_live is not None:
            self._unplug(dom, in_live, volume_id)
        self.remove_secret(iid, volume_id)
        LOG.info("detached %s from %s", volume_id, iid)

    def _unplug(self, dom, disk: ET.Element, volume_id: str) -> None:
        timeout = detach_timeout()
        try:
            dom.detachDeviceFlags(ET.tostring(disk, encoding="unicode"), LIVE)
        except libvirt.libvirtError as e:
            # Asked twice (an earlier request is still with the guest):
            # waiting below is the answer either way.
            LOG.info("%s: detach of %s: %s", dom.name(), volume_id, e)

        def released() -> bool:
            try:
                return (
                    not dom.isActive()
                    or _find(dom.XMLDesc(0), volume_id) is None
                )
            except libvirt.libvirtError as e:
                if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    return True
                raise

        try:
            waiting.wait_for(
                released,
                timeout,
                f"{dom.name()} to release {volume_id}",
                interval=POLL,
                sleep=self.removals.wait,
            )
        except waiting.WaitTimeout:
            raise VolumeBusy(
                f"{dom.name()} did not release {volume_id} within {timeout:g}s"
            ) from None
