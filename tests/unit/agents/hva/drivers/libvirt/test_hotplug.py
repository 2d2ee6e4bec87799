"""Data volume hot-plug in the libvirt driver: the disk XML (a secret,
never a password), the free PCIe ports of q35 guests, and the calls made
on a domain (live and config, config only when off, idempotent, the wait
for the guest to let a disk go).

libvirt's test:///default driver has neither secrets nor
attachDeviceFlags (it answers "not supported"), so the domain and the
connection here are small fakes that keep the XML the way libvirt does.
"""

import threading
import xml.etree.ElementTree as ET

import libvirt
import pytest

from arame.agents.hva.drivers.base import NoFreeDevice, VolumeBusy
from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.agents.hva.drivers.libvirt import hotplug, storage

IID = "i-abcd0001"
VID = "vol-abcd0002"
PASSWORD = "0123456789abcdef01234567"
VOLUME = {
    "volume_id": VID,
    "portal": "10.9.0.1:3260",
    "iqn": f"iqn.2026-01.org.arame:{VID}",
    "lun": 1,
    "chap_user": f"arame-{VID[4:]}",
    "chap_secret": PASSWORD,
}

BASE = """<domain type='qemu'><name>{name}</name><devices>
<disk type='file' device='disk'><source file='/x/disk'/>
<target dev='vda' bus='virtio'/></disk>
<disk type='file' device='disk'><source file='/x/config.iso'/>
<target dev='vdb' bus='virtio'/><serial>cidata</serial></disk>
</devices></domain>"""


class FakeSecret:
    def __init__(self, conn, uuid, usage):
        self.conn, self.uuid, self.usage, self.value = conn, uuid, usage, None

    def setValue(self, value):
        self.value = value

    def usageID(self):
        return self.usage

    def undefine(self):
        del self.conn.secrets[self.uuid]


class FakeConn:
    def __init__(self):
        self.secrets: dict[str, FakeSecret] = {}

    def secretDefineXML(self, xml):
        root = ET.fromstring(xml)
        u = root.find("uuid").text
        sec = self.secrets.setdefault(
            u, FakeSecret(self, u, root.find("usage/target").text)
        )
        return sec

    def secretLookupByUUIDString(self, u):
        if u not in self.secrets:
            err = libvirt.libvirtError("no secret")
            err.get_error_code = lambda: libvirt.VIR_ERR_NO_SECRET
            raise err
        return self.secrets[u]

    def listAllSecrets(self):
        return list(self.secrets.values())


class FakeDomain:
    """Live and persistent XML; a live detach is done by the guest
    (`release`: at once, later in a thread with an event, or never)."""

    def __init__(self, active=True, release="now", removals=None):
        self.active = active
        self.release = release
        self.removals = removals
        self.live = ET.fromstring(BASE.format(name=IID))
        self.conf = ET.fromstring(BASE.format(name=IID))
        self.calls: list[tuple[str, int]] = []

    def name(self):
        return IID

    def isActive(self):
        return self.active

    def XMLDesc(self, flags=0):
        src = (
            self.conf
            if flags & libvirt.VIR_DOMAIN_XML_INACTIVE or not self.active
            else self.live
        )
        return ET.tostring(src, encoding="unicode")

    def attachDeviceFlags(self, xml, flags):
        self.calls.append(("attach", flags))
        if flags & libvirt.VIR_DOMAIN_AFFECT_LIVE:
            assert self.active
            self.live.find("devices").append(ET.fromstring(xml))
        if flags & libvirt.VIR_DOMAIN_AFFECT_CONFIG:
            self.conf.find("devices").append(ET.fromstring(xml))

    def _remove(self, root, xml):
        dev = ET.fromstring(xml).find("target").get("dev")
        devices = root.find("devices")
        for d in devices.findall("disk"):
            if d.find("target").get("dev") == dev:
                devices.remove(d)

    def detachDeviceFlags(self, xml, flags):
        self.calls.append(("detach", flags))
        if flags & libvirt.VIR_DOMAIN_AFFECT_CONFIG:
            self._remove(self.conf, xml)
        if flags & libvirt.VIR_DOMAIN_AFFECT_LIVE:
            if self.release == "now":
                self._remove(self.live, xml)
            elif self.release == "event":

                def later():
                    self._remove(self.live, xml)
                    self.removals.on_removed(None, self, "virtio-disk2", None)

                threading.Timer(0.05, later).start()


@pytest.fixture
def conn():
    return FakeConn()


@pytest.fixture
def attachments(conn):
    return hotplug.VolumeAttachments(lambda: conn)


def serials(xml):
    return xmlconf.disks(xml)


# -- XML ---------------------------------------------------------------------


def test_the_disk_names_a_secret_and_never_the_password():
    disk = storage.iscsi_volume(
        VOLUME, "7a0c3c1e-0000-4000-8000-000000000002", "vdc"
    )
    xml = xmlconf.disk_xml(disk)
    assert PASSWORD not in xml
    d = ET.fromstring(xml)
    assert (d.get("type"), d.find("source").get("protocol")) == (
        "network",
        "iscsi",
    )
    assert d.find("source").get("name") == f"{VOLUME['iqn']}/1"
    assert d.find("source/host").attrib == {"name": "10.9.0.1", "port": "3260"}
    assert d.find("auth").get("username") == VOLUME["chap_user"]
    assert d.find("auth/secret").get("uuid") == disk.secret_uuid
    assert d.find("target").attrib == {"dev": "vdc", "bus": "virtio"}
    assert d.find("serial").text == VID


@pytest.mark.parametrize(
    "bad",
    [
        {"volume_id": "../x"},
        {"iqn": "iqn.2026-01.org.arame:a b"},
        {"portal": "10.0.0.1;reboot:3260"},
        {"lun": "1"},
        {"lun": 999},
        {"chap_user": "a'b"},
        {"chap_secret": ""},
    ],
)
def test_every_field_is_checked_before_the_xml(bad):
    with pytest.raises(ValueError):
        storage.iscsi_volume({**VOLUME, **bad}, "u", "vdc")


def test_q35_guests_get_free_pcie_ports_beyond_their_devices():
    g = xmlconf.Guest(
        name=IID,
        uuid="u",
        virt_type="qemu",
        vcpus=1,
        memory_mb=64,
        machine="q35",
        console_log="/x/log",
        disks=(xmlconf.FileDisk("/x/d", "vda"),),
        hotplug_ports=16,
    )
    root = ET.fromstring(xmlconf.domain_xml(g))
    ctrl = root.findall("devices/controller")
    assert (ctrl[0].get("model"), ctrl[0].get("index")) == ("pcie-root", "0")
    ports = [c for c in ctrl if c.get("model") == "pcie-root-port"]
    assert len(ports) == 16 + 1 + 3
    pc = xmlconf.domain_xml(xmlconf.Guest(**{**g.__dict__, "machine": "pc"}))
    assert "pcie-root" not in pc


def test_secret_uuids_are_per_guest_and_volume():
    a = storage.volume_secret_uuid(IID, VID)
    assert a == storage.volume_secret_uuid(IID, VID)
    assert a != storage.volume_secret_uuid("i-abcd0009", VID)
    assert a != storage.secret_uuid(IID)


# -- attach ------------------------------------------------------------------


def test_attach_to_a_running_guest_goes_live_and_into_its_config(
    attachments, conn
):
    dom = FakeDomain()
    assert attachments.attach(dom, VOLUME) == {"device": "vdc"}
    assert dom.calls == [("attach", hotplug.LIVE | hotplug.CONFIG)]
    assert serials(dom.XMLDesc(0))["vdc"] == VID
    assert serials(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))["vdc"] == VID
    (sec,) = conn.secrets.values()
    assert sec.value == PASSWORD.encode()
    assert sec.usageID() == f"{IID}-{VID}"
    assert PASSWORD not in dom.XMLDesc(0)


def test_attach_to_a_guest_that_is_off_changes_its_config_only(attachments):
    dom = FakeDomain(active=False)
    assert attachments.attach(dom, VOLUME) == {"device": "vdc"}
    assert dom.calls == [("attach", hotplug.CONFIG)]


def test_attach_twice_answers_the_same_and_calls_nothing(attachments):
    dom = FakeDomain()
    first = attachments.attach(dom, VOLUME)
    assert attachments.attach(dom, VOLUME) == first
    assert len(dom.calls) == 1


def test_the_next_volume_takes_the_next_free_name(attachments):
    dom = FakeDomain()
    attachments.attach(dom, VOLUME)
    other = {
        **VOLUME,
        "volume_id": "vol-abcd0003",
        "iqn": "iqn.2026-01.org.arame:vol-abcd0003",
    }
    assert attachments.attach(dom, other) == {"device": "vdd"}


def test_a_name_taken_only_in_the_config_is_not_reused():
    live = BASE.format(name=IID)
    conf = live.replace(
        "</devices>", "<disk type='file'><target dev='vdc'/></disk></devices>"
    )
    assert hotplug.free_device(live, conf) == "vdd"


def test_no_free_name_is_refused():
    many = "".join(
        f"<disk><target dev='{d}'/></disk>"
        for d in ("vda",)
        + tuple(f"vd{c}" for c in "bcdefghijklmnopqrstuvwxyz")
    )
    with pytest.raises(NoFreeDevice):
        hotplug.free_device(f"<domain><devices>{many}</devices></domain>")


def test_a_refused_attach_removes_the_secret_it_made(attachments, conn):
    dom = FakeDomain()

    def refuse(xml, flags):
        raise libvirt.libvirtError("No more available PCI slots")

    dom.attachDeviceFlags = refuse
    with pytest.raises(libvirt.libvirtError):
        attachments.attach(dom, VOLUME)
    assert conn.secrets == {}


# -- detach ------------------------------------------------------------------


def test_detach_waits_for_the_guest_and_removes_the_secret(attachments, conn):
    dom = FakeDomain(release="event", removals=attachments.removals)
    attachments.attach(dom, VOLUME)
    attachments.detach(dom, VID)
    assert VID not in dom.XMLDesc(0)
    assert VID not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert conn.secrets == {}
    assert dom.calls[1:] == [
        ("detach", hotplug.CONFIG),
        ("detach", hotplug.LIVE),
    ]


def test_a_guest_that_keeps_the_disk_is_volume_busy(
    attachments, conn, monkeypatch
):
    monkeypatch.setattr(hotplug, "detach_timeout", lambda: 0.3)
    dom = FakeDomain(release="never")
    attachments.attach(dom, VOLUME)
    with pytest.raises(VolumeBusy):
        attachments.detach(dom, VID)
    # The guest still has it: so the secret stays for it.
    assert VID in dom.XMLDesc(0) and len(conn.secrets) == 1
    # Asked again once the guest let it go, it is done.
    dom.release = "now"
    attachments.detach(dom, VID)
    assert conn.secrets == {}


def test_detach_of_a_detached_volume_is_a_no_op(attachments):
    dom = FakeDomain()
    attachments.detach(dom, VID)
    assert dom.calls == []


def test_destroy_removes_every_secret_of_the_guest_only(attachments, conn):
    attachments.attach(FakeDomain(), VOLUME)
    conn.secretDefineXML(
        "<secret><uuid>x</uuid><usage type='iscsi'><target>"
        "i-zzzz0001-vol-abcd0002</target></usage></secret>"
    )
    attachments.remove_secrets(IID)
    assert [s.usage for s in conn.secrets.values()] == [
        "i-zzzz0001-vol-abcd0002"
    ]
