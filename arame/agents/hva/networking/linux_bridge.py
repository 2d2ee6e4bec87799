"""Tenant networks as Linux bridges: one bridge per network, one segment port.

The segment port carries the network off the host: a VXLAN device
(vx-<suffix>, VNI = segment id), an 802.1q sub-interface of the physical
device (<device>.<vid>), or the physical device itself for a flat network.
Every call converges: what exists and is right is kept, what is wrong is
fixed or remade, so repeating a call (or a call interrupted by a crash) is
safe.

Broadcast and unknown-unicast frames of a VXLAN network reach the other
hosts either through a multicast group (no host list needed: the default)
or by head-end replication to a static peer list (for underlays without
multicast). Both work between namespaces joined by a veth.
"""

import dataclasses
import ipaddress
import re
import time

from oslo_log import log

from arame.agents.hva.networking import base, iproute
from arame.common import ids
from arame.common.conf import CONF, hva_networking

LOG = log.getLogger(__name__)

# Conservative: what `ip` will take as a name without reading it as anything
# else (no "/", spaces or ":"; not "." or "..").
_DEVICE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")

VXLAN_PREFIX = "vx-"


@dataclasses.dataclass(frozen=True)
class Settings:
    """The [hva_networking] options, checked once."""

    underlay_device: str | None
    local_ip: str | None
    vxlan_group: str | None
    vxlan_peers: tuple[str, ...]
    vxlan_port: int
    mtu: int
    physical_device: str | None

    @classmethod
    def from_conf(cls, conf) -> "Settings":
        hva_networking.register(conf)
        o = conf.hva_networking
        for opt in ("underlay_device", "physical_device"):
            value = getattr(o, opt)
            if value and not _DEVICE_RE.fullmatch(value):
                raise base.UnderlayError(
                    f"[hva_networking] {opt}: not a device name: {value!r}"
                )
        group = o.vxlan_group.strip() if o.vxlan_group else None
        if group and not _is_multicast(group):
            raise base.UnderlayError(
                f"[hva_networking] vxlan_group: {group!r} is not a "
                "multicast address"
            )
        return cls(
            o.underlay_device or None,
            str(o.local_ip) if o.local_ip else None,
            group,
            tuple(str(p) for p in o.vxlan_peers),
            o.vxlan_port,
            o.mtu,
            o.physical_device or None,
        )

    @property
    def flooding(self) -> str:
        """unicast (peer list), multicast (group) or none (one host)."""
        if self.vxlan_peers:
            return "unicast"
        return "multicast" if self.vxlan_group else "none"


def _is_multicast(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_multicast
    except ValueError:
        return False


@dataclasses.dataclass(frozen=True)
class _Port:
    """The segment port a network needs, and how to tell whether an existing
    device with its name is that port."""

    name: str
    kind: str  # vxlan, vlan, or flat (taken whole)
    type_args: tuple = ()
    lower: str | None = None  # the device a VLAN sits on
    want: tuple = ()  # (key, value) its info_data must hold
    peers: tuple[str, ...] | None = None  # unicast flood list, VXLAN only

    def matches(self, link: dict) -> bool:
        info = link.get("linkinfo", {})
        data = info.get("info_data", {})
        return (
            info.get("info_kind") == self.kind
            and all(data.get(k) == v for k, v in self.want)
            and (self.lower is None or link.get("link") == self.lower)
        )


class LinuxBridgeNetworking(base.HostNetworking):
    def __init__(self, netns: str | None = None, *, conf=None):
        super().__init__()
        self.settings = Settings.from_conf(conf if conf is not None else CONF)
        self.netns = netns
        self._ip = iproute.IpRoute(netns)
        self._local_ip: str | None = None
        if self.settings.flooding == "none":
            LOG.warning(
                "[hva_networking] has neither vxlan_group nor "
                "vxlan_peers: VXLAN networks stay on this host"
            )

    # -- the interface -------------------------------------------------------

    def ensure_network(self, network: dict) -> str:
        net = base.parse_network(network)
        mtu = net.mtu or self.settings.mtu
        bridge = self.bridge_name(net.id)
        t0 = time.monotonic()
        with self.network_lock(net.id):
            port = self._segment_port(net)
            before = self._ip.link(bridge)
            created = self._ensure_bridge(bridge, before)
            try:
                if port.kind == "flat":
                    self._take_physical(port.name, bridge)
                else:
                    self._ensure_segment_device(port, bridge, mtu)
            except Exception:
                if created:  # leave no half-made network behind
                    self._remove_quietly(bridge)
                raise
            # Set last and explicitly: an MTU given at creation is not
            # "set by the user", so the kernel would lower or raise it to
            # follow whatever ports join later.
            if (
                created
                or before.get("mtu") != mtu
                or "UP" not in before.get("flags", ())
            ):
                self._ip.set(bridge, "mtu", mtu, "up")
        LOG.debug(
            "network %s ready on %s in %.3fs",
            net.id,
            bridge,
            time.monotonic() - t0,
        )
        return bridge

    def release_network(self, network_id: str) -> None:
        net_id = base.check_network_id(network_id)
        bridge = self.bridge_name(net_id)
        with self.network_lock(net_id):
            vxlan = self._vxlan_name(net_id)
            link = self._ip.link(bridge)
            if link is None:
                # A VXLAN port left by a release that stopped half-way.
                self._ip.delete(vxlan)
                return
            if link.get("linkinfo", {}).get("info_kind") != "bridge":
                raise base.NetworkingError(
                    f"{bridge} is not a bridge: not removed"
                )
            ports = self._ip.links(master=bridge)
            others = [
                p["ifname"]
                for p in ports
                if not self._is_segment_port(p, net_id)
            ]
            # An address is not ours (IPv6 is off on our bridges): a local
            # service such as nsa's dnsmasq serves the network on it.
            users = others + [
                a["local"]
                for a in link.get("addr_info", [])
                if a.get("scope") != "link"
            ]
            if users:
                LOG.debug(
                    "network %s kept: %s still use %s", net_id, users, bridge
                )
                return
            for p in ports:
                # A flat network's physical device is only let go (by the
                # bridge's removal), never deleted.
                if p["ifname"] != self.settings.physical_device:
                    self._ip.delete(p["ifname"])
            self._ip.delete(bridge)
            if vxlan not in {p["ifname"] for p in ports}:
                self._ip.delete(vxlan)  # one taken off the bridge by hand
            LOG.info("network %s released: %s removed", net_id, bridge)

    def networks(self) -> set[str]:
        return {
            link["ifname"]
            for link in self._ip.links(kind="bridge")
            if ids.is_valid("network", link["ifname"])
        }

    # -- segment ports -------------------------------------------------------

    @staticmethod
    def _vxlan_name(network_id: str) -> str:
        return VXLAN_PREFIX + network_id.split("-", 1)[1]

    def _segment_port(self, net: base.Network) -> _Port:
        if net.segmentation == "vxlan":
            return self._vxlan_port(net)
        phys = self.settings.physical_device
        if not phys:
            raise base.UnderlayError(
                f"{net.id}: a {net.segmentation} network needs "
                "[hva_networking] physical_device"
            )
        if net.segmentation == "flat":
            return _Port(phys, "flat")
        name = f"{phys}.{net.segment_id}"
        if len(name) > base.LINK_NAME_MAX:
            raise base.UnderlayError(
                f"{net.id}: VLAN device name {name!r} is longer than "
                f"{base.LINK_NAME_MAX} characters"
            )
        return _Port(
            name,
            "vlan",
            lower=phys,
            type_args=("protocol", "802.1Q", "id", net.segment_id),
            want=(("protocol", "802.1Q"), ("id", net.segment_id)),
        )

    def _vxlan_port(self, net: base.Network) -> _Port:
        s = self.settings
        local = self._local_address()
        v6 = ipaddress.ip_address(local).version == 6
        args = ["id", net.segment_id, "local", local]
        want = [
            ("id", net.segment_id),
            ("local6" if v6 else "local", local),
            ("port", s.vxlan_port),
            ("learning", True),
        ]
        peers = None
        if s.flooding == "multicast":
            if not s.underlay_device:
                raise base.UnderlayError(
                    "[hva_networking] vxlan_group needs underlay_device "
                    "(the group is joined on it)"
                )
            args += ["group", s.vxlan_group, "dev", s.underlay_device]
            want += [
                ("group6" if v6 else "group", s.vxlan_group),
                ("link", s.underlay_device),
            ]
        else:
            want += [("group", None), ("group6", None)]
            peers = tuple(p for p in s.vxlan_peers if p != local)
        args += ["dstport", s.vxlan_port, "learning"]
        return _Port(
            self._vxlan_name(net.id),
            "vxlan",
            type_args=tuple(args),
            want=tuple(want),
            peers=peers,
        )

    def _local_address(self) -> str:
        s = self.settings
        if s.local_ip:
            return s.local_ip
        if self._local_ip is None:
            if not s.underlay_device:
                raise base.UnderlayError(
                    "VXLAN needs [hva_networking] local_ip or underlay_device"
                )
            addresses = self._ip.ipv4_addresses(s.underlay_device)
            if not addresses:
                raise base.UnderlayError(
                    f"underlay device {s.underlay_device} has no IPv4 "
                    "address (or set [hva_networking] local_ip)"
                )
            self._local_ip = addresses[0]
        return self._local_ip

    def _is_segment_port(self, link: dict, network_id: str) -> bool:
        kind = link.get("linkinfo", {}).get("info_kind")
        name = link["ifname"]
        phys = self.settings.physical_device
        return (
            (kind == "vxlan" and name == self._vxlan_name(network_id))
            or (
                kind == "vlan"
                and phys is not None
                and name.startswith(phys + ".")
            )
            or name == phys
        )

    # -- steps ---------------------------------------------------------------

    def _ensure_bridge(self, bridge: str, link: dict | None) -> bool:
        """Create the bridge if missing; True if this call made it."""
        if link is not None:
            kind = link.get("linkinfo", {}).get("info_kind")
            if kind != "bridge":
                raise base.NetworkingError(
                    f"{bridge} exists and is a {kind or 'plain'} device, "
                    "not a bridge"
                )
            if "UP" not in link.get("flags", ()):
                # Not brought up: an earlier call stopped before its end.
                self._ip.disable_ipv6(bridge)
            return False
        self._ip.add(
            bridge, "bridge", type_args=("stp_state", 0, "forward_delay", 0)
        )
        try:
            self._ip.disable_ipv6(bridge)
        except Exception:
            self._remove_quietly(bridge)
            raise
        LOG.info("bridge %s created", bridge)
        return True

    def _remove_quietly(self, name: str) -> None:
        """Undo after a failure, keeping the failure as the error."""
        try:
            self._ip.delete(name)
        except Exception:
            LOG.exception("could not remove %s after a failure", name)

    def _ensure_segment_device(
        self, port: _Port, bridge: str, mtu: int
    ) -> None:
        link = self._ip.link(port.name)
        if link is not None and not port.matches(link):
            LOG.info(
                "%s does not match its network (%s): remade",
                port.name,
                link.get("linkinfo"),
            )
            self._ip.delete(port.name)
            link = None
        if link is None:
            self._ip.add(
                port.name,
                port.kind,
                mtu=mtu,
                master=bridge,
                lower=port.lower,
                up=True,
                type_args=port.type_args,
            )
            have: set[str] = set()
        else:
            changes = []
            if link.get("mtu") != mtu:
                changes += ["mtu", mtu]
            if link.get("master") != bridge:
                changes += ["master", bridge]
            if "UP" not in link.get("flags", ()):
                changes.append("up")
            if changes:
                self._ip.set(port.name, *changes)
            have = (
                self._ip.flood_destinations(port.name)
                if port.peers is not None
                else set()
            )
        if port.peers is not None:
            for peer in sorted(set(port.peers) - have):
                self._ip.flood_to(port.name, peer)
            for gone in sorted(have - set(port.peers)):
                self._ip.stop_flooding_to(port.name, gone)

    def _take_physical(self, dev: str, bridge: str) -> None:
        link = self._ip.link(dev)
        if link is None:
            raise base.UnderlayError(f"physical device {dev!r} not found")
        master = link.get("master")
        if master == bridge:
            if "UP" not in link.get("flags", ()):
                self._ip.set(dev, "up")
            return
        if master:
            raise base.SegmentInUse(
                f"{dev} already serves another bridge ({master})"
            )
        if any(a.get("family") == "inet" for a in link.get("addr_info", [])):
            raise base.UnderlayError(
                f"{dev} holds IPv4 addresses: taking it into a bridge for a "
                "flat network would cut this host off"
            )
        self._ip.set(dev, "master", bridge, "up")
