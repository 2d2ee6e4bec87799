"""What nsa serves, as checked values: a network and its reservations.

Every identifier, address and name an RPC message carries is parsed here
before it reaches a file, a command line or a signal; anything else is
refused with InvalidRecord (the RPC caller sees it as a remote ValueError).
"""

import dataclasses
import ipaddress
import re

from arame.agents.hva.networking import base as net_base
from arame.common import ids


class InvalidRecord(ValueError):
    pass


_MAC_RE = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
# RFC 1123 label: letters, digits, hyphens; not starting or ending with one.
_LABEL_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# A Linux interface name we are willing to pass to ip and dnsmasq.
_IFNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
# An iPXE script served over TFTP to the reservation's MAC: printable ASCII
# lines (the controller makes them with arame.common.pxe).
_SCRIPT_RE = re.compile(r"#!ipxe\r?\n[\x20-\x7e\t\r\n]*")
MAX_BOOT_SCRIPT = 8192


def network_id(value) -> str:
    if not ids.is_valid("network", value):
        raise InvalidRecord(f"not a network id: {value!r}")
    return value


def mac(value) -> str:
    v = value.lower() if isinstance(value, str) else value
    if not isinstance(v, str) or not _MAC_RE.fullmatch(v):
        raise InvalidRecord(f"not a MAC address: {value!r}")
    if int(v[:2], 16) & 1:
        raise InvalidRecord(f"multicast MAC address: {value!r}")
    return v


def hostname(value) -> str:
    v = value.lower() if isinstance(value, str) else value
    if not isinstance(v, str) or not _LABEL_RE.fullmatch(v):
        raise InvalidRecord(f"not an RFC 1123 host name label: {value!r}")
    return v


def domain(value) -> str:
    v = value.lower().rstrip(".") if isinstance(value, str) else value
    if (
        not isinstance(v, str)
        or not v
        or len(v) > 253
        or not all(_LABEL_RE.fullmatch(p) for p in v.split("."))
    ):
        raise InvalidRecord(f"not a DNS domain: {value!r}")
    return v


def ifname(value) -> str:
    if (
        not isinstance(value, str)
        or not _IFNAME_RE.fullmatch(value)
        or value in (".", "..")
    ):
        raise InvalidRecord(f"not an interface name: {value!r}")
    return value


def boot_script(value) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or len(value) > MAX_BOOT_SCRIPT
        or not _SCRIPT_RE.fullmatch(value)
    ):
        # Never echo it: it may hold CHAP credentials.
        raise InvalidRecord(
            f"not an iPXE script (#!ipxe, printable ASCII, "
            f"at most {MAX_BOOT_SCRIPT} bytes)"
        )
    return value


def ipv4(value, what: str = "address") -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(value)
    except (ipaddress.AddressValueError, ValueError, TypeError):
        raise InvalidRecord(f"not an IPv4 {what}: {value!r}") from None


@dataclasses.dataclass(frozen=True)
class Network:
    id: str
    cidr: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address | None
    dhcp_address: ipaddress.IPv4Address  # where dnsmasq listens
    dns_domain: str
    dhcp_ranges: tuple[
        tuple[ipaddress.IPv4Address, ipaddress.IPv4Address], ...
    ]
    mtu: int | None
    bridge: str
    # How the network leaves the host (hva's networking: vxlan, vlan,
    # flat); None from a controller that does not say, and then the
    # bridge stays local (the bare bridge of older releases).
    segmentation: str | None = None
    segment_id: int | None = None

    @property
    def segment(self) -> dict | None:
        """The network as hva's networking takes it (bridge + segment
        port), or None when the message gave no segmentation."""
        if self.segmentation is None:
            return None
        return {
            "id": self.id,
            "segmentation": self.segmentation,
            "segment_id": self.segment_id,
            "mtu": self.mtu,
        }

    @property
    def server_interface(self) -> str:
        """The dnsmasq address with the network's prefix (for `ip addr`)."""
        return f"{self.dhcp_address}/{self.cidr.prefixlen}"

    def contains(self, ip: ipaddress.IPv4Address) -> bool:
        """A host address of the network (not its network or broadcast
        address) that neither the gateway nor dnsmasq itself uses."""
        if ip not in self.cidr or ip in (self.gateway, self.dhcp_address):
            return False
        if self.cidr.prefixlen < 31:
            return ip not in (
                self.cidr.network_address,
                self.cidr.broadcast_address,
            )
        return True

    def to_message(self) -> dict:
        msg = {
            "id": self.id,
            "cidr": str(self.cidr),
            "gateway": str(self.gateway) if self.gateway else None,
            "dhcp_address": str(self.dhcp_address),
            "dns_domain": self.dns_domain,
            "dhcp_ranges": [[str(a), str(b)] for a, b in self.dhcp_ranges],
            "mtu": self.mtu,
            "bridge": self.bridge,
        }
        if self.segmentation is not None:
            msg["segmentation"] = self.segmentation
            msg["segment_id"] = self.segment_id
        return msg


@dataclasses.dataclass(frozen=True)
class Reservation:
    mac: str
    ip: ipaddress.IPv4Address
    hostname: str
    # What iPXE runs when this MAC network-boots (a bare-metal node).
    boot_script: str | None = dataclasses.field(default=None, repr=False)

    def same_lease(self, other: "Reservation") -> bool:
        """Same MAC, address and name: only the boot script differs."""
        return (self.mac, self.ip, self.hostname) == (
            other.mac,
            other.ip,
            other.hostname,
        )

    def to_message(self) -> dict:
        msg = {"mac": self.mac, "ip": str(self.ip), "hostname": self.hostname}
        if self.boot_script is not None:
            msg["boot_script"] = self.boot_script
        return msg


def parse_network(msg) -> Network:
    """The RPC form `{"id", "cidr", "gateway", "dhcp_address"?, "dns_domain",
    "dhcp_ranges", "mtu", "bridge", "segmentation"?, "segment_id"?}` as a
    checked Network."""
    if not isinstance(msg, dict):
        raise InvalidRecord(f"not a network: {msg!r}")
    nid = network_id(msg.get("id"))
    try:
        cidr = ipaddress.IPv4Network(msg.get("cidr"), strict=True)
    except (
        ipaddress.AddressValueError,
        ipaddress.NetmaskValueError,
        ValueError,
        TypeError,
    ):
        raise InvalidRecord(f"not an IPv4 cidr: {msg.get('cidr')!r}") from None
    if cidr.prefixlen > 30:
        raise InvalidRecord(f"{cidr} leaves no room for hosts")
    gateway = None
    if msg.get("gateway") is not None:
        gateway = ipv4(msg["gateway"], "gateway")
    server = msg.get("dhcp_address")
    server = ipv4(server, "DHCP address") if server is not None else gateway
    if server is None:
        raise InvalidRecord(f"{nid}: neither a gateway nor a dhcp_address")
    for what, addr in (("gateway", gateway), ("DHCP address", server)):
        if addr is not None and (
            addr not in cidr
            or addr in (cidr.network_address, cidr.broadcast_address)
        ):
            raise InvalidRecord(
                f"{nid}: {what} {addr} is not a host of {cidr}"
            )
    ranges = []
    for r in msg.get("dhcp_ranges") or []:
        if not isinstance(r, (list, tuple)) or len(r) != 2:
            raise InvalidRecord(f"{nid}: not a [start, end] range: {r!r}")
        start, end = ipv4(r[0], "range start"), ipv4(r[1], "range end")
        if start not in cidr or end not in cidr or start > end:
            raise InvalidRecord(f"{nid}: range {start}-{end} is not in {cidr}")
        ranges.append((start, end))
    mtu = msg.get("mtu")
    if mtu is not None and (
        not isinstance(mtu, int)
        or isinstance(mtu, bool)
        or not 576 <= mtu <= 9216
    ):
        raise InvalidRecord(f"{nid}: not an MTU: {mtu!r}")
    bridge = ifname(msg.get("bridge"))
    kind, seg = segment(nid, msg.get("segmentation"), msg.get("segment_id"))
    if kind is not None and bridge != nid:
        # hva's networking names a network's bridge after it: another
        # name would be a second bridge for the same segment.
        raise InvalidRecord(
            f"{nid}: the bridge of a segmented network is named after "
            f"it, not {bridge!r}"
        )
    return Network(
        id=nid,
        cidr=cidr,
        gateway=gateway,
        dhcp_address=server,
        dns_domain=domain(msg.get("dns_domain")),
        dhcp_ranges=tuple(ranges),
        mtu=mtu,
        bridge=bridge,
        segmentation=kind,
        segment_id=seg,
    )


def segment(nid: str, kind, seg) -> tuple[str | None, int | None]:
    """(segmentation, segment id) as hva's networking accepts them."""
    if kind is None:
        return None, None
    if kind not in net_base.SEGMENTATIONS:
        raise InvalidRecord(f"{nid}: not a segmentation: {kind!r}")
    if kind == "flat":
        if seg is not None:
            raise InvalidRecord(f"{nid}: a flat network has no segment_id")
        return kind, None
    low, high = net_base.SEGMENT_RANGES[kind]
    if type(seg) is not int or not low <= seg <= high:
        raise InvalidRecord(
            f"{nid}: {kind} segment_id must be {low}-{high}, not {seg!r}"
        )
    return kind, seg


def parse_reservation(
    network: Network,
    mac_value,
    ip_value,
    hostname_value,
    boot_script_value=None,
) -> Reservation:
    """A reservation checked against the network it belongs to."""
    r = Reservation(
        mac=mac(mac_value),
        ip=ipv4(ip_value),
        hostname=hostname(hostname_value),
        boot_script=boot_script(boot_script_value),
    )
    if not network.contains(r.ip):
        raise InvalidRecord(
            f"{r.ip} is not a host address of {network.id} "
            f"({network.cidr}) free for a reservation"
        )
    return r


def parse_reservations(network: Network, items) -> list[Reservation]:
    """A full list (sync): each checked, and no MAC, address or name twice."""
    if not isinstance(items, (list, tuple)):
        raise InvalidRecord(f"not a list of reservations: {items!r}")
    out, seen = [], {}
    for item in items:
        if not isinstance(item, dict):
            raise InvalidRecord(f"not a reservation: {item!r}")
        r = parse_reservation(
            network,
            item.get("mac"),
            item.get("ip"),
            item.get("hostname"),
            item.get("boot_script"),
        )
        for key in (r.mac, r.ip, r.hostname):
            if key in seen:
                raise InvalidRecord(
                    f"{network.id}: {key} appears twice "
                    f"({seen[key].mac} and {r.mac})"
                )
            seen[key] = r
        out.append(r)
    return out
