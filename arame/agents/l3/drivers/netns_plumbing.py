"""The links of the netns routers: veths between a router's namespace and
the bridges of its networks (hva's LinuxBridgeNetworking: a tenant
network's bridge is the one its guests' taps use; an external network's
takes the device that `physical_networks` maps its physical network to),
and the bridges given back when no router uses them any more.
"""

import threading

from oslo_config import cfg
from oslo_log import log

from arame.agents.hva.networking import LinuxBridgeNetworking, iproute
from arame.agents.l3.drivers import base
from arame.common import ids
from arame.common.conf import hva_networking

LOG = log.getLogger(__name__)


class UnknownPhysicalNetwork(base.RouterError):
    """The router's external network is carried by no device here."""

    code = "unknown_physical_network"


class Plumbing:
    def __init__(self, netns, physical_networks: dict[str, str], conf):
        """`netns`: the namespace holding the bridges (None: ours);
        `conf`: where [hva_networking] is read."""
        self.netns = netns
        self.physical_networks = physical_networks
        self._conf = conf
        self.host = iproute.IpRoute(netns)
        self.tenant_networking = LinuxBridgeNetworking(netns, conf=conf)
        self._external: dict[str, LinuxBridgeNetworking] = {}
        self._external_guard = threading.Lock()

    def networking_for(self, net: base.NetworkSpec) -> LinuxBridgeNetworking:
        if net.segmentation == "vxlan" or net.physical_network is None:
            return self.tenant_networking
        return self.external_networking(net.physical_network)

    def external_networking(self, name: str) -> LinuxBridgeNetworking:
        dev = self.physical_networks.get(name)
        if dev is None:
            raise UnknownPhysicalNetwork(
                f"no device of this host carries physical network {name!r} "
                f"([l3] physical_networks: {self.physical_networks})"
            )
        # One object per physical network: its locks guard the bridge
        # that every router of the host shares.
        with self._external_guard:
            if name not in self._external:
                self._external[name] = LinuxBridgeNetworking(
                    self.netns, conf=bridge_conf(self._conf, dev)
                )
            return self._external[name]

    def networking_of_bridge(self, bridge: str) -> LinuxBridgeNetworking:
        """The plumbing that made `bridge`: the one whose physical device
        is a port of it (an external network), else the tenants' one."""
        if self.host.link(bridge) is None:
            return self.tenant_networking  # a VXLAN port left at most
        ports = {p["ifname"] for p in self.host.links(master=bridge)}
        for name, dev in self.physical_networks.items():
            if any(p == dev or p.startswith(dev + ".") for p in ports):
                return self.external_networking(name)
        return self.tenant_networking

    def release(self, bridges: set[str]) -> None:
        for bridge in sorted(bridges):
            if not bridge or not ids.is_valid("network", bridge):
                continue
            try:
                networking = self.networking_of_bridge(bridge)
                with networking.network_lock(bridge):
                    networking.release_network(bridge)
            except Exception:
                # Left for the next release: the router itself is gone.
                LOG.exception("could not release bridge %s", bridge)

    def plug(
        self,
        net: base.NetworkSpec,
        host_dev: str,
        router_dev: str,
        ns: str,
        rip: iproute.IpRoute,
        links: dict,
    ) -> set[str]:
        """The veth host_dev <-> router_dev, host end a port of the
        network's bridge, both up with its MTU; returns a bridge the host
        end left (to release)."""
        networking = self.networking_for(net)
        mtu = net.mtu or networking.settings.mtu
        with networking.network_lock(net.id):
            bridge = networking.ensure_network(net.to_message())
            host = self.host.link(host_dev)
            mine = links.get(router_dev)
            if (
                host is None
                or mine is None
                or mine.get("linkinfo", {}).get("info_kind") != "veth"
            ):
                # Half a pair or a stranger: made again whole.
                if mine is not None:
                    rip.delete(router_dev)
                left = set()
                if host is not None:
                    left = {host.get("master") or ""} - {bridge}
                    self.host.delete(host_dev)
                self.host.add(
                    host_dev,
                    "veth",
                    mtu=mtu,
                    type_args=(
                        "peer",
                        "name",
                        router_dev,
                        "mtu",
                        mtu,
                        "netns",
                        ns,
                    ),
                )
                self.host.set(host_dev, "master", bridge, "up")
                rip.set(router_dev, "up")
                links[router_dev] = {"ifname": router_dev, "addr_info": []}
                return left
            left = set()
            changes = []
            if host.get("master") != bridge:
                left = {host.get("master") or ""}
                changes += ["master", bridge]
            if host.get("mtu") != mtu:
                changes += ["mtu", mtu]
            if "UP" not in host.get("flags", ()):
                changes.append("up")
            if changes:
                self.host.set(host_dev, *changes)
            changes = []
            if mine.get("mtu") != mtu:
                changes += ["mtu", mtu]
            if "UP" not in mine.get("flags", ()):
                changes.append("up")
            if changes:
                rip.set(router_dev, *changes)
            return left

    def unplug(self, router_id: str, dev: str, rip) -> set[str]:
        """Remove a router link no longer in the spec; returns the bridge
        its host end was on."""
        if dev == base.EXTERNAL_DEV:
            host_dev = base.host_external_dev(router_id)
        else:
            host_dev = (
                base.HOST_TENANT_PREFIX + dev[len(base.TENANT_DEV_PREFIX) :]
            )
        host = self.host.link(host_dev)
        rip.delete(dev)  # its peer goes with it
        if host is not None:
            self.host.delete(host_dev)
        LOG.info("router %s: %s removed", router_id, dev)
        return {host.get("master") or ""} if host else set()


def is_router_dev(name: str) -> bool:
    return name == base.EXTERNAL_DEV or (
        name.startswith(base.TENANT_DEV_PREFIX) and len(name) == 10
    )


def bridge_conf(src, physical_device: str) -> cfg.ConfigOpts:
    """[hva_networking] as `src` has it, with `physical_device` set: the
    plumbing of one external network's bridge."""
    hva_networking.register(src)
    conf = cfg.ConfigOpts()
    # By name: a registered OptGroup object holds the overrides, so
    # sharing it would share them.
    conf.register_opts(hva_networking.opts, group=hva_networking.group.name)
    conf([], default_config_files=[])
    for opt in hva_networking.opts:
        value = getattr(src.hva_networking, opt.dest)
        if opt.dest == "physical_device":
            value = physical_device
        if value is not None:
            conf.set_override(opt.dest, value, group="hva_networking")
    return conf
