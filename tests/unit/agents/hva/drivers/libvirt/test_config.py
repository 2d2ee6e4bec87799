import xml.etree.ElementTree as ET

from arame.agents.hva.drivers.libvirt import config


def guest(**kw):
    base = dict(
        name="i-abcdefgh",
        uuid="7a0c3c1e-0000-4000-8000-000000000001",
        virt_type="qemu",
        vcpus=2,
        memory_mb=512,
        machine="q35",
        console_log="/var/lib/arame/instances/i-abcdefgh/console.log",
        disks=(
            config.FileDisk("/x/disk", "vda"),
            config.FileDisk(
                "/x/config.iso",
                "vdb",
                format="raw",
                readonly=True,
                serial="cidata",
            ),
        ),
        nics=(
            config.Nic(
                "52:54:00:12:34:56", "nw-abcdefgh", "tapabcdefgh0", 1450
            ),
        ),
        metadata={"ha_enabled": 1, "networks": "nw-abcdefgh"},
    )
    base.update(kw)
    return config.Guest(**base)


def parse(g):
    return ET.fromstring(config.domain_xml(g))


def test_domain_type_and_acpi_so_that_guests_can_power_off():
    root = parse(guest())
    assert root.get("type") == "qemu"
    assert root.find("features/acpi") is not None
    assert root.findtext("on_crash") == "destroy"
    assert root.find("cpu") is None  # host-passthrough only with kvm
    assert (
        parse(guest(virt_type="kvm")).find("cpu").get("mode")
        == "host-passthrough"
    )


def test_disks_nics_and_console_log():
    root = parse(guest())
    disks = root.findall("devices/disk")
    assert [d.find("target").get("dev") for d in disks] == ["vda", "vdb"]
    assert disks[0].find("driver").get("type") == "qcow2"
    assert disks[1].find("readonly") is not None
    assert disks[1].findtext("serial") == "cidata"
    nic = root.find("devices/interface")
    assert nic.get("type") == "bridge"
    assert nic.find("source").get("bridge") == "nw-abcdefgh"
    assert nic.find("target").get("dev") == "tapabcdefgh0"
    assert nic.find("mtu").get("size") == "1450"
    log = root.find("devices/serial/log")
    assert log.get("file").endswith("i-abcdefgh/console.log")
    assert log.get("append") == "on"


def test_kernel_boot():
    root = parse(
        guest(
            kernel="/b/vmlinuz",
            initrd="/b/initrd",
            cmdline="console=ttyS0 panic=-1",
        )
    )
    assert root.findtext("os/kernel") == "/b/vmlinuz"
    assert root.findtext("os/initrd") == "/b/initrd"
    assert root.findtext("os/cmdline") == "console=ttyS0 panic=-1"
    assert root.find("os/boot") is None


def test_iscsi_root_uses_a_secret_never_a_password():
    disk = config.IscsiDisk(
        portal="192.0.2.10:3260",
        iqn="iqn.2026-11.dev.arame:vol-abcdefgh",
        lun=1,
        target="vda",
        chap_user="u-chap",
        secret_uuid="7a0c3c1e-0000-4000-8000-000000000002",
    )
    xml = config.domain_xml(guest(disks=(disk,)))
    d = ET.fromstring(xml).find("devices/disk")
    assert d.get("type") == "network"
    src = d.find("source")
    assert (src.get("protocol"), src.get("name")) == (
        "iscsi",
        "iqn.2026-11.dev.arame:vol-abcdefgh/1",
    )
    assert (src.find("host").get("name"), src.find("host").get("port")) == (
        "192.0.2.10",
        "3260",
    )
    assert d.find("auth/secret").get("uuid") == disk.secret_uuid
    assert "password" not in xml


def test_metadata_round_trip_and_escaping():
    g = guest(metadata={"ha_enabled": 0, "account_id": "a-<x>&y"})
    xml = config.domain_xml(g)
    assert config.read_metadata(xml) == {
        "ha_enabled": "0",
        "account_id": "a-<x>&y",
    }
    assert config.read_metadata("<domain><name>x</name></domain>") == {}
