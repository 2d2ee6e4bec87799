"""The test image boots under QEMU (TCG) and does what its markers say.

Networks exist only inside namespaces these tests make: a NIC with no DHCP
server behind it, or a bridge with dnsmasq serving 198.51.100.0/24
(TEST-NET-2) in a namespace of its own.
"""

import os
import tarfile

import netlab

from arame.agents.hva import configdrive
from arame.common import ids
from arame.deploy import testimage

from .conftest import tap

MAC = "52:54:00:a7:e5:01"


def kernel_args(image: dict, machine: str = "q35") -> list[str]:
    paths = image["paths"]
    return [
        "-machine",
        f"{machine},accel=tcg",
        "-kernel",
        paths["vmlinuz"],
        "-initrd",
        paths["initrd.img"],
        "-append",
        "console=ttyS0 panic=-1",
    ]


def nic(tap_name: str, mac: str = MAC) -> list[str]:
    return [
        "-netdev",
        f"tap,id=n0,ifname={tap_name},script=no,downscript=no",
        "-device",
        f"virtio-net-pci,netdev=n0,mac={mac}",
    ]


def config_drive(path, *, hostname: str, keys=(), user_data=None) -> tuple:
    iid = ids.generate("instance")
    configdrive.build(
        str(path),
        instance_id=iid,
        hostname=hostname,
        public_keys=list(keys),
        user_data=user_data,
    )
    return iid, ["-drive", f"file={path},if=virtio,readonly=on,format=raw"]


def test_image_files_are_what_the_manifest_says(image):
    d = image["output_dir"]
    for name, info in image["files"].items():
        assert os.path.getsize(os.path.join(d, name)) == info["size"]
        assert (
            testimage.builder.sha256_file(os.path.join(d, name))
            == info["sha256"]
        )
    with tarfile.open(image["paths"]["kernel.tar"]) as tar:
        members = {m.name: m.size for m in tar.getmembers()}
    assert members == {
        "vmlinuz": image["files"]["vmlinuz"]["size"],
        "initrd": image["files"]["initrd.img"]["size"],
    }
    again = testimage.build(d)
    assert again["cached"] and again["build_key"] == image["build_key"]
    print(
        f"\nbuild: {image['build_seconds']} s (whole call "
        f"{image['elapsed']:.2f} s)"
    )


def test_config_drive_markers_no_dhcp_and_acpi_poweroff(
    image, keys, boot, lab, tmp_path
):
    ns = lab.netns("g")
    lonely = tap(lab, ns, "t")  # a NIC with nothing behind it
    user_data = "#!/bin/sh\necho user-data says hello\nexit 3\n"
    iid, drive = config_drive(
        tmp_path / "cd.iso",
        hostname="web-1",
        keys=[k for k, _ in keys],
        user_data=user_data,
    )
    g = boot("plain", kernel_args(image) + drive + nic(lonely), netns=ns)

    g.wait_for(f"booted kernel={image['kernel_version']}")
    g.wait_for("ready")
    took = g.elapsed()
    markers = g.markers()
    assert "config-drive=found" in markers
    assert f"instance-id={iid}" in markers
    assert "hostname=web-1" in markers
    assert [m for m in markers if m.startswith("ssh-key=")] == [
        f"ssh-key={fp}" for _, fp in keys
    ]
    assert "dhcp=failed" in markers
    assert "user-data=ran exit=3" in markers
    assert "user-data says hello" in g.console().splitlines()
    assert not [
        m for m in markers if m.startswith(("module-failed", "ip="))
    ], markers
    print(f"\nboot to ready (kernel boot, DHCP failing): {took:.1f} s")

    g.qmp.execute("system_powerdown")
    g.wait_for("poweroff", timeout=30)
    assert g.wait_exit(timeout=30) == 0


def test_dhcp_address_hostname_mtu_and_reboot(image, boot, lab, tmp_path):
    ns = lab.netns("h")
    br = lab.bridge(ns, lab.name("br"))
    netlab.run("ip", "addr", "add", "198.51.100.1/24", "dev", br, netns=ns)
    lab.spawn(
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-hosts",
        "--no-resolv",
        "--port=0",
        "--user=root",
        "--bind-interfaces",
        f"--interface={br}",
        "--except-interface=lo",
        f"--pid-file={tmp_path}/dnsmasq.pid",
        f"--dhcp-leasefile={tmp_path}/leases",
        "--dhcp-range=198.51.100.50,198.51.100.99,255.255.255.0,2m",
        f"--dhcp-host={MAC},198.51.100.77,dhcpname",
        "--dhcp-option=option:router,198.51.100.1",
        "--dhcp-option=option:mtu,1400",
        netns=ns,
    )
    port = tap(lab, ns, "t", bridge=br)
    user_data = (
        "#!/bin/sh\n"
        'echo "guest-mtu=$(cat /sys/class/net/eth0/mtu)"\n'
        'pidof udhcpc >/dev/null && echo "udhcpc renews"\n'
    )
    _, drive = config_drive(
        tmp_path / "cd.iso", hostname="web-2", user_data=user_data
    )
    g = boot("dhcp", kernel_args(image) + drive + nic(port), netns=ns)

    g.wait_for(r"ip=198\.51\.100\.77/24 dev=eth0")
    g.wait_for("ready")
    took = g.elapsed()
    markers = g.markers()
    assert "dhcp-hostname=dhcpname" in markers
    assert "hostname=web-2" in markers
    assert "user-data=ran exit=0" in markers
    assert "dhcp=failed" not in markers
    assert "guest-mtu=1400" in g.console().splitlines()
    assert "udhcpc renews" in g.console().splitlines()
    assert netlab.can_ping(ns, "198.51.100.77")
    print(f"\nboot to ready (kernel boot, DHCP answered): {took:.1f} s")

    # A reset is a second boot: every marker again.
    g.qmp.execute("system_reset")
    g.wait_for("booted kernel=.*", count=2)
    g.wait_for(r"ip=198\.51\.100\.77/24 dev=eth0", count=2)
    g.wait_for("ready", count=2)


def test_raw_disk_boots_alone_on_pc_and_q35(image, boot):
    disk = image["paths"]["disk.raw"]
    # pc with a virtio disk (as the iSCSI root is attached), q35 with the
    # disk on its AHCI controller: the BIOS and SYSLINUX load the kernel.
    guests = [
        boot(
            "raw-pc",
            [
                "-machine",
                "pc,accel=tcg",
                "-drive",
                f"file={disk},if=virtio,format=raw,snapshot=on",
            ],
        ),
        boot(
            "raw-q35",
            [
                "-machine",
                "q35,accel=tcg",
                "-drive",
                f"file={disk},if=ide,format=raw,snapshot=on",
            ],
        ),
    ]
    for g in guests:
        g.wait_for(f"booted kernel={image['kernel_version']}")
        g.wait_for("ready")
        print(f"\nraw disk {g.name}: boot to ready {g.elapsed():.1f} s")
        assert "config-drive=none" in g.markers()
        assert "SYSLINUX" in g.console()
