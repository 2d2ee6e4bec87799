"""A bare-metal "server" for the lab, the tests and bench/baremetal.py: a
libvirt domain without a disk (`type='qemu'`: no KVM here), its NIC on a
bridge, its serial console in a file. It network-boots (or boots from
where its BMC's boot device points) through the qemu NIC ROM, which is
iPXE."""

from arame.common import runner

LIBVIRT_URI = "qemu:///system"

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='{boot}'/>
    <bios useserial='yes'/>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <interface type='bridge'>
      <source bridge='{bridge}'/>
      <mac address='{mac}'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='{log}'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def virsh(*args, ok_codes=(0,)) -> str:
    return runner.run(
        ["virsh", "-c", LIBVIRT_URI, *args], timeout=60, ok_codes=ok_codes
    ).stdout


class PxeNode:
    """Defined (not started) at construction; `boot` is the first boot
    device ("network", or "hd" for a BMC to switch to PXE)."""

    def __init__(
        self,
        name: str,
        bridge: str,
        mac: str,
        log: str,
        xml_path: str,
        boot: str = "network",
    ):
        self.name, self.mac, self.log = name, mac, log
        with open(xml_path, "w") as f:
            f.write(
                DOMAIN_XML.format(
                    name=name, bridge=bridge, mac=mac, log=log, boot=boot
                )
            )
        virsh("define", xml_path)

    def state(self) -> str:
        return virsh("domstate", self.name).strip()

    def console(self) -> str:
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def force_off(self) -> None:
        virsh("destroy", self.name, ok_codes=(0, 1))

    def remove(self) -> None:
        self.force_off()
        virsh("undefine", self.name, ok_codes=(0, 1))
