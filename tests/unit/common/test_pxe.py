"""The iPXE scripts: what they say, and that nothing odd gets in."""

import pytest

from arame.common import pxe

IQN = "iqn.2025-01.org.arame.lab:vol-3k9x2m0q"
GOOD = {
    "portal": "10.20.0.2:3260",
    "iqn": IQN,
    "lun": 1,
    "chap_user": "vol-3k9x2m0q",
    "chap_secret": "s3cret-Pa55w0rd",
}


def test_sanboot_script():
    script = pxe.sanboot_script(**GOOD)
    assert script == (
        "#!ipxe\n"
        "isset ${ip} || dhcp\n"
        "set username vol-3k9x2m0q\n"
        "set password s3cret-Pa55w0rd\n"
        f"sanboot iscsi:10.20.0.2::3260:1:{IQN} || goto failed\n"
        ":failed\n"
        f"echo Arame: sanboot of {IQN} failed: ${{errno}}\n"
        "exit 1\n"
    )


def test_sanboot_script_initiator_default_port_and_ipv6():
    s = pxe.sanboot_script(
        **{**GOOD, "portal": "10.20.0.2"},
        initiator_iqn="iqn.2025-01.org.arame:bm-1",
    )
    assert "set initiator-iqn iqn.2025-01.org.arame:bm-1\n" in s
    assert f"sanboot iscsi:10.20.0.2::3260:1:{IQN} " in s
    s = pxe.sanboot_script(**{**GOOD, "portal": "[fd00::2]:3261", "lun": 0})
    assert f"sanboot iscsi:[fd00::2]::3261:0:{IQN} " in s
    assert pxe.san_uri("fd00::2", IQN, 1) == f"iscsi:[fd00::2]::3260:1:{IQN}"


@pytest.mark.parametrize(
    "field,value",
    [
        ("portal", "10.20.0.2:3260 || shell"),
        ("portal", "host.example:3260"),
        ("portal", "10.20.0.256"),
        ("portal", "10.20.0.2:0"),
        ("portal", "10.20.0.2:70000"),
        ("portal", "[10.20.0.2]:3260"),
        ("portal", "[fd00::2"),
        ("portal", ""),
        ("portal", None),
        ("iqn", "iqn.2025-01.org.arame:vol-1 || shell"),
        ("iqn", "iqn.2025-13.org.arame:vol-1"),
        ("iqn", "IQN.2025-01.org.arame:vol-1"),
        ("iqn", "iqn.2025-01.org.arame:${password}"),
        ("iqn", "iqn.2025-01.-org:x"),
        ("iqn", "vol-1"),
        ("lun", -1),
        ("lun", 256),
        ("lun", "1"),
        ("lun", True),
        ("chap_user", "a b"),
        ("chap_user", "${x}"),
        ("chap_user", ""),
        ("chap_secret", "short"),
        ("chap_secret", "long-enough-but\nshell"),
        ("chap_secret", "long-enough ${x}"),
    ],
)
def test_sanboot_refuses_what_is_not_what_it_claims(field, value):
    with pytest.raises(ValueError):
        pxe.sanboot_script(**{**GOOD, field: value})


def test_a_bad_secret_is_not_echoed():
    with pytest.raises(ValueError) as e:
        pxe.sanboot_script(**{**GOOD, "chap_secret": "not ok because $"})
    assert "not ok" not in str(e.value)


def test_eui_names_and_bad_initiator():
    assert pxe.iqn("eui.0123456789abcdef") == "eui.0123456789abcdef"
    with pytest.raises(ValueError):
        pxe.sanboot_script(**GOOD, initiator_iqn="bm-1 || shell")


def test_kernel_script():
    s = pxe.kernel_script(
        kernel_url="http://10.20.0.1:8080/img/vmlinuz",
        initrd_url="initrd.img",
        cmdline="console=ttyS0 panic=-1",
    )
    assert s == (
        "#!ipxe\n"
        "isset ${ip} || dhcp\n"
        "kernel http://10.20.0.1:8080/img/vmlinuz console=ttyS0 panic=-1"
        " || goto failed\n"
        "initrd initrd.img || goto failed\n"
        "boot || goto failed\n"
        ":failed\n"
        "echo Arame: kernel boot failed: ${errno}\n"
        "exit 1\n"
    )
    s = pxe.kernel_script(
        kernel_url="tftp://boot.lab/k", initrd_url="i", cmdline=""
    )
    assert "kernel tftp://boot.lab/k || goto failed\n" in s


@pytest.mark.parametrize(
    "field,value",
    [
        ("kernel_url", "ftp://10.0.0.1/vmlinuz"),
        ("kernel_url", "http://10.0.0.1/vmlinuz?x=${password}"),
        ("kernel_url", "http://user:pw@10.0.0.1/vmlinuz"),
        ("kernel_url", "http://10.0.0.1/a b"),
        ("kernel_url", "http://bad_host/vmlinuz"),
        ("kernel_url", "/etc/passwd"),
        ("kernel_url", "../vmlinuz"),
        ("initrd_url", "http://10.0.0.1/../../x"),
        ("initrd_url", None),
        ("cmdline", "console=ttyS0 || shell"),
        ("cmdline", "root=${root}"),
        ("cmdline", "a\nshell"),
        ("cmdline", "a  b"),
        ("cmdline", "x" * 1025),
    ],
)
def test_kernel_script_refuses(field, value):
    good = {
        "kernel_url": "vmlinuz",
        "initrd_url": "initrd.img",
        "cmdline": "console=ttyS0",
    }
    with pytest.raises(ValueError):
        pxe.kernel_script(**{**good, field: value})
