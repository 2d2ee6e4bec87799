"""What dnsmasq is told: its command line for one network, and the lines
of its host files. Pure functions of checked records, no I/O.

Per network, dnsmasq reads its reservations from two places:
- a base file each (`--dhcp-hostsfile` dhcp-hosts, `--addn-hosts` hosts),
  rewritten on every reload, which dnsmasq reads in one go;
- a watched directory each (`--dhcp-hostsdir`, `--hostsdir`), one file per
  MAC, holding what was added since the last reload: dnsmasq reads a new
  file there on its own, so an add needs no signal.
Reading 10,000 one-line files on SIGHUP takes dnsmasq ~1 s against ~0.2 s
for one 10,000-line file, hence the base files; see DnsmasqDriver._reload.

A network with bare-metal nodes (a reservation carrying an iPXE script)
also gets TFTP (`pxe_argv`): PXE ROMs that are not iPXE load
`undionly.kpxe`; iPXE loads `boot.ipxe`, which chains `<mac>.ipxe`, the
reservation's own script, read from the TFTP root at each boot (so a new
script needs no signal). dnsmasq also sends IPv6 router advertisements
there: iPXE otherwise waits ~13 s for one before it goes on.
"""

import dataclasses
import hashlib
import ipaddress
import os

from arame.agents.nsa.records import Network, Reservation


@dataclasses.dataclass(frozen=True)
class Paths:
    """A network's state directory, `<state_path>/<network id>/`."""

    root: str

    @property
    def network_json(self):
        return os.path.join(self.root, "network.json")

    @property
    def dhcp_hosts(self):
        return os.path.join(self.root, "dhcp-hosts")

    @property
    def hosts(self):
        return os.path.join(self.root, "hosts")

    @property
    def dhcp_hosts_dir(self):
        return os.path.join(self.root, "dhcp-hosts.d")

    @property
    def hosts_dir(self):
        return os.path.join(self.root, "hosts.d")

    @property
    def tmp_dir(self):
        # Temporary files live beside, not inside, the watched directories:
        # dnsmasq would read a half-written file there.
        return os.path.join(self.root, "tmp")

    @property
    def leases(self):
        return os.path.join(self.root, "leases")

    @property
    def pidfile(self):
        return os.path.join(self.root, "dnsmasq.pid")

    @property
    def log(self):
        return os.path.join(self.root, "dnsmasq.log")

    @property
    def stderr(self):
        return os.path.join(self.root, "dnsmasq.err")

    @property
    def tftp_root(self):
        return os.path.join(self.root, "tftp")


# What iPXE fetches first: it hands over to the script of its own MAC.
BOOT_FILE = "boot.ipxe"
BOOT_IPXE = """#!ipxe
chain ${mac:hexhyp}.ipxe || goto failed
:failed
echo Arame: the boot script of ${mac} is missing or failed: ${errno}
exit 1
"""
# What a PXE ROM that is not iPXE loads (Debian's `ipxe` package).
UNDI_FILE = "undionly.kpxe"
SCRIPT_SUFFIX = ".ipxe"


def script_file_name(mac: str) -> str:
    """`<mac with hyphens>.ipxe`: what iPXE's ${mac:hexhyp} names."""
    return host_file_name(mac) + SCRIPT_SUFFIX


def script_mac(name: str) -> str | None:
    """The MAC a file in the TFTP root is the script of, else None."""
    if not name.endswith(SCRIPT_SUFFIX) or name == BOOT_FILE:
        return None
    mac = name[: -len(SCRIPT_SUFFIX)].replace("-", ":")
    return mac if len(mac) == 17 else None


def ra_address(net: Network) -> str:
    """A unique local IPv6 address (/64) for the bridge, derived from the
    network id: dnsmasq sends router advertisements only for a prefix it
    finds on the interface, and a link-local one does not count."""
    h = hashlib.sha256(net.id.encode()).digest()
    prefix = bytes([0xFD]) + h[:7]  # fdxx:xxxx:xxxx:xxxx::/64
    addr = ipaddress.IPv6Address(prefix + bytes(7) + bytes([1]))
    return f"{addr}/64"


def pxe_argv(net: Network, paths: Paths, *, undionly: bool) -> list[str]:
    args = [
        "--enable-tftp",
        f"--tftp-root={paths.tftp_root}",
        # iPXE says who it is in option 175 (and in its user class).
        "--dhcp-match=set:ipxe,175",
        "--dhcp-userclass=set:ipxe,iPXE",
        f"--dhcp-boot=tag:ipxe,{BOOT_FILE}",
        # Answer its router solicitations: no router (lifetime 0), a prefix
        # only for the address the node configures on its own.
        "--enable-ra",
        f"--dhcp-range=::,constructor:{net.bridge},ra-only",
        f"--ra-param={net.bridge},60,0",
    ]
    if undionly:
        args.insert(4, f"--dhcp-boot=tag:!ipxe,{UNDI_FILE}")
    return args


def host_file_name(mac: str) -> str:
    """The per-MAC file in both watched directories (no dot: dnsmasq skips
    dotfiles)."""
    return mac.replace(":", "-")


def dhcp_line(res: Reservation) -> str:
    return f"{res.mac},{res.ip},{res.hostname}\n"


def hosts_line(net: Network, res: Reservation) -> str:
    return f"{res.ip} {res.hostname}.{net.dns_domain} {res.hostname}\n"


def reverse_zone(net: Network) -> str:
    """The in-addr.arpa zone holding the cidr, cut at an octet boundary
    (a /20 answers for its whole /16 reverse zone, with no upstream to
    forward to anyway)."""
    octets = max(1, net.cidr.prefixlen // 8)
    parts = str(net.cidr.network_address).split(".")[:octets]
    return ".".join(reversed(parts)) + ".in-addr.arpa"


def argv(
    net: Network,
    paths: Paths,
    *,
    binary: str = "dnsmasq",
    lease_time: int = 86400,
    user: str = "",
    forwarders=(),
    log_dhcp: bool = False,
    pxe: bool = False,
    undionly: bool = False,
) -> list[str]:
    tag = net.id
    mask = str(net.cidr.netmask)
    # "static": serve only the MACs given in dhcp-host lines; the start
    # address only names the subnet, so one context per range is enough.
    starts = [s for s, _ in net.dhcp_ranges] or [net.cidr.network_address]
    args = [
        binary,
        "--keep-in-foreground",
        "--conf-file=/dev/null",  # not the system's /etc/dnsmasq.conf
        f"--pid-file={paths.pidfile}",
        f"--log-facility={paths.log}",
        "--bind-interfaces",
        f"--interface={net.bridge}",
        "--except-interface=lo",
        *[
            f"--dhcp-range=set:{tag},{s},static,{mask},{lease_time}"
            for s in dict.fromkeys(starts)
        ],
        # Without it dnsmasq stops at 1,000 leases.
        f"--dhcp-lease-max={net.cidr.num_addresses}",
        f"--dhcp-hostsfile={paths.dhcp_hosts}",
        f"--dhcp-hostsdir={paths.dhcp_hosts_dir}",
        f"--addn-hosts={paths.hosts}",
        f"--hostsdir={paths.hosts_dir}",
        f"--domain={net.dns_domain}",
        f"--local=/{net.dns_domain}/",
        f"--local=/{reverse_zone(net)}/",
        f"--dhcp-option=tag:{tag},option:dns-server,{net.dhcp_address}",
        "--no-resolv",
        "--no-hosts",
        "--domain-needed",
        "--bogus-priv",
        f"--dhcp-leasefile={paths.leases}",
        "--dhcp-authoritative",
    ]
    if net.gateway is not None:
        args.append(f"--dhcp-option=tag:{tag},option:router,{net.gateway}")
    if net.mtu:
        args.append(f"--dhcp-option=tag:{tag},option:mtu,{net.mtu}")
    args += [f"--server={f}" for f in forwarders]
    if pxe:
        args += pxe_argv(net, paths, undionly=undionly)
    if user:
        args.append(f"--user={user}")
    # Routine DHCP exchanges are not logged unless asked: the log file is
    # never rotated, and each line costs dnsmasq time on a busy network.
    args.append("--log-dhcp" if log_dhcp else "--quiet-dhcp")
    return args
