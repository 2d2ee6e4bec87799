"""Domain XML from a guest description: a pure function, tested on its own.

Every value that reaches the XML was checked by the driver before (ids,
MACs, paths under the instances directory); ElementTree escapes the rest.
"""

import dataclasses
import xml.etree.ElementTree as ET

METADATA_NS = "https://arame.dev/xmlns/instance/1"
METADATA_PREFIX = "arame"


@dataclasses.dataclass(frozen=True)
class FileDisk:
    path: str
    target: str  # vda, vdb ...
    format: str = "qcow2"  # qcow2 | raw
    readonly: bool = False
    serial: str | None = None


@dataclasses.dataclass(frozen=True)
class IscsiDisk:
    """A LUN through qemu's own iSCSI initiator (no kernel initiator needed);
    CHAP from a libvirt secret, so no secret is ever in the XML."""

    portal: str  # host:port
    iqn: str
    lun: int
    target: str
    chap_user: str | None = None
    secret_uuid: str | None = None
    serial: str | None = None


@dataclasses.dataclass(frozen=True)
class Nic:
    mac: str
    bridge: str
    tap: str
    mtu: int | None = None


@dataclasses.dataclass(frozen=True)
class Guest:
    name: str  # the instance id
    uuid: str
    virt_type: str  # kvm | qemu
    vcpus: int
    memory_mb: int
    machine: str
    console_log: str
    disks: tuple = ()
    nics: tuple = ()
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    metadata: dict = dataclasses.field(default_factory=dict)
    # Free PCIe root ports: on q35 a hot-plugged disk needs one (libvirt
    # adds only as many as the defined devices use).
    hotplug_ports: int = 0


def _sub(parent, tag, text=None, **attrs):
    el = ET.SubElement(
        parent, tag, {k.rstrip("_"): str(v) for k, v in attrs.items()}
    )
    if text is not None:
        el.text = str(text)
    return el


def domain_xml(g: Guest) -> str:
    dom = ET.Element("domain", type=g.virt_type)
    _sub(dom, "name", g.name)
    _sub(dom, "uuid", g.uuid)
    md = _sub(dom, "metadata")
    inst = ET.SubElement(md, f"{{{METADATA_NS}}}instance")
    for key, value in sorted(g.metadata.items()):
        ET.SubElement(inst, f"{{{METADATA_NS}}}{key}").text = str(value)
    _sub(dom, "memory", g.memory_mb, unit="MiB")
    _sub(dom, "vcpu", g.vcpus)
    os_el = _sub(dom, "os")
    _sub(os_el, "type", "hvm", arch="x86_64", machine=g.machine)
    if g.kernel:
        _sub(os_el, "kernel", g.kernel)
        if g.initrd:
            _sub(os_el, "initrd", g.initrd)
        if g.cmdline:
            _sub(os_el, "cmdline", g.cmdline)
    else:
        _sub(os_el, "boot", dev="hd")
    features = _sub(dom, "features")
    # Without ACPI the guest never sees the power button: a stop would
    # always end in destroy after the deadline.
    _sub(features, "acpi")
    _sub(features, "apic")
    if g.virt_type == "kvm":
        _sub(dom, "cpu", mode="host-passthrough")
    _sub(dom, "clock", offset="utc")
    _sub(dom, "on_poweroff", "destroy")
    _sub(dom, "on_reboot", "restart")
    # A crash stops the domain so that the agent sees it and decides
    # (HA restart or stopped with a reason) instead of libvirt looping.
    _sub(dom, "on_crash", "destroy")
    devices = _sub(dom, "devices")
    for d in g.disks:
        _disk(devices, d)
    if g.hotplug_ports and "q35" in g.machine:
        # libvirt puts the defined devices on the first ports it finds:
        # one each for the disks, NICs, balloon, rng and USB controller,
        # the rest stay free for hot-plug.
        _sub(devices, "controller", type="pci", index=0, model="pcie-root")
        used = len(g.disks) + len(g.nics) + 3
        for _ in range(g.hotplug_ports + used):
            _sub(devices, "controller", type="pci", model="pcie-root-port")
    for n in g.nics:
        iface = _sub(devices, "interface", type="bridge")
        _sub(iface, "mac", address=n.mac)
        _sub(iface, "source", bridge=n.bridge)
        _sub(iface, "target", dev=n.tap)
        _sub(iface, "model", type="virtio")
        if n.mtu:
            _sub(iface, "mtu", size=n.mtu)
    # A pty for `virsh console`, and virtlogd keeps everything the guest
    # prints in a file per instance (served by the console API).
    serial = _sub(devices, "serial", type="pty")
    _sub(serial, "log", file=g.console_log, append="on")
    _sub(serial, "target", port=0)
    console = _sub(devices, "console", type="pty")
    _sub(console, "target", type="serial", port=0)
    _sub(devices, "memballoon", model="virtio")
    _sub(devices, "rng", model="virtio").append(_backend())
    ET.register_namespace(METADATA_PREFIX, METADATA_NS)
    return ET.tostring(dom, encoding="unicode")


def _backend():
    b = ET.Element("backend", model="random")
    b.text = "/dev/urandom"
    return b


def _disk(devices, d) -> None:
    if isinstance(d, FileDisk):
        disk = _sub(devices, "disk", type="file", device="disk")
        _sub(
            disk,
            "driver",
            name="qemu",
            type=d.format,
            cache="none",
            discard="unmap",
        )
        _sub(disk, "source", file=d.path)
    else:
        disk = _sub(devices, "disk", type="network", device="disk")
        _sub(disk, "driver", name="qemu", type="raw", cache="none")
        host, _, port = d.portal.rpartition(":")
        src = _sub(disk, "source", protocol="iscsi", name=f"{d.iqn}/{d.lun}")
        _sub(src, "host", name=host, port=port)
        if d.chap_user:
            auth = _sub(disk, "auth", username=d.chap_user)
            _sub(auth, "secret", type="iscsi", uuid=d.secret_uuid)
    _sub(disk, "target", dev=d.target, bus="virtio")
    if getattr(d, "readonly", False):
        _sub(disk, "readonly")
    if d.serial:
        _sub(disk, "serial", d.serial)


def disk_xml(d) -> str:
    """One <disk> for attachDeviceFlags / detachDeviceFlags."""
    holder = ET.Element("devices")
    _disk(holder, d)
    return ET.tostring(holder[0], encoding="unicode")


def disks(xml: str) -> dict[str, str | None]:
    """Every disk of a domain: target dev -> serial (our data volumes carry
    their volume id as serial: that is how we find them again)."""
    root = ET.fromstring(xml)
    out = {}
    for disk in root.findall("devices/disk"):
        target = disk.find("target")
        if target is None or not target.get("dev"):
            continue
        serial = disk.find("serial")
        out[target.get("dev")] = serial.text if serial is not None else None
    return out


def read_metadata(xml: str) -> dict:
    """Our metadata back from a domain's XML (survives agent restarts)."""
    root = ET.fromstring(xml)
    inst = root.find(f"metadata/{{{METADATA_NS}}}instance")
    if inst is None:
        return {}
    return {child.tag.split("}", 1)[1]: child.text or "" for child in inst}
