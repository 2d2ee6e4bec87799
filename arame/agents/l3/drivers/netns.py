"""Routers as network namespaces: veths into the bridges, NAT in nftables.

A router `rt-abcd1234` is the namespace `<prefix>rt-abcd1234`, with
- `qg0`, a veth whose other end (`qgabcd1234`, in the driver's namespace)
  is a port of the external network's bridge; it holds the router's
  external address and every floating IP as a /32;
- `ri<network suffix>` per attached network, whose other end
  (`qr<network suffix>`) is a port of that network's bridge; it holds the
  network's gateway address;
- the table `ip arame_router` (nft_rules.render), forwarding on.

The bridges are hva's (LinuxBridgeNetworking, same names: the network
id): a tenant network's bridge is the one its guests' taps and nsa's
dnsmasq use; the external one takes the physical device that
`physical_networks` maps the network's `physical_network` to.

`apply` reads what is there and converges: what is missing is made,
what is not in the spec is removed, and a second call with the same spec
runs no command that changes anything. Removing a floating IP follows
INFRA-NOTES: the new ruleset first, then its flows are cut (`conntrack
-D`, which a ruleset change alone does not do), then its /32 goes.
"""

import ipaddress
import json
import os
import re
import shutil
import threading
from concurrent import futures

from oslo_config import cfg
from oslo_log import log

from arame.agents.hva.networking import LinuxBridgeNetworking, iproute
from arame.agents.l3.drivers import base, nft_rules
from arame.common import ids, runner
from arame.common.conf import CONF, hva_networking

LOG = log.getLogger(__name__)

TIMEOUT = 30.0
NETNS_DIR = "/run/netns"
DEFAULT_PHYSICAL_NETWORKS = {"public": "eth1"}

_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")
_PREFIX_RE = re.compile(r"[A-Za-z0-9_.-]{0,32}")
_DEVICE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")
_EXISTS = ("File exists", "already exists")


class UnknownPhysicalNetwork(base.RouterError):
    """The router's external network is carried by no device here."""

    code = "unknown_physical_network"


class NetnsRouterDriver(base.RouterDriver):
    def __init__(
        self,
        netns: str | None = None,
        namespace_prefix: str = "arame-",
        physical_networks: dict[str, str] | None = None,
        max_connections: int | None = nft_rules.DEFAULT_MAX_CONNECTIONS,
        *,
        conf=None,
    ):
        """`netns`: the namespace holding the bridges (None: ours).
        `physical_networks`: physical network name -> device (default
        {"public": "eth1"}). `conf`: where [hva_networking] (VXLAN
        underlay, MTU) is read; the global CONF by default."""
        if netns is not None and not _NAME_RE.fullmatch(netns):
            raise base.RouterError(f"not a namespace name: {netns!r}")
        if not _PREFIX_RE.fullmatch(namespace_prefix or ""):
            raise base.RouterError(
                f"not a namespace prefix: {namespace_prefix!r}"
            )
        if physical_networks is None:
            physical_networks = DEFAULT_PHYSICAL_NETWORKS
        for name, dev in physical_networks.items():
            if not base.PHYSICAL_NETWORK_RE.fullmatch(name) or not (
                _DEVICE_RE.fullmatch(dev)
            ):
                raise base.RouterError(
                    f"physical network {name!r}: not a name and device: "
                    f"{dev!r}"
                )
        self.netns = netns or None
        self.prefix = namespace_prefix or ""
        self.physical_networks = dict(physical_networks)
        self.max_connections = max_connections
        self._conf = conf if conf is not None else CONF
        self._host = iproute.IpRoute(self.netns)
        self.tenant_networking = LinuxBridgeNetworking(
            self.netns, conf=self._conf
        )
        self._external: dict[str, LinuxBridgeNetworking] = {}
        self._external_guard = threading.Lock()
        # The spec each router was last applied with, successfully.
        self._applied: dict[str, base.RouterSpec] = {}
        # The digest comment of the table this driver last loaded whole.
        self._loaded: dict[str, str | None] = {}
        # After map elements changed alone, that comment is an older
        # spec's: the spec the table now stands for, so that a full apply
        # of the same spec does not load the whole file again for a stale
        # comment.
        self._stands_for: dict[str, base.RouterSpec] = {}
        self._arping = _arping_command()

    @classmethod
    def from_conf(cls, conf=None) -> "NetnsRouterDriver":
        """Built from the [l3] options (arame.common.conf.l3)."""
        from arame.common.conf import l3

        conf = conf if conf is not None else CONF
        l3.register(conf)
        o = conf.l3
        return cls(
            o.netns or None,
            o.namespace_prefix,
            dict(o.physical_networks or {}),
            o.max_connections,
            conf=conf,
        )

    # -- names ---------------------------------------------------------------

    def namespace(self, router_id: str) -> str:
        return self.prefix + base.check_router_id(router_id)

    def routers(self) -> set[str]:
        try:
            names = os.listdir(NETNS_DIR)
        except FileNotFoundError:
            return set()
        n = len(self.prefix)
        return {
            name[n:]
            for name in names
            if name.startswith(self.prefix) and base.is_router_id(name[n:])
        }

    # -- bridges -------------------------------------------------------------

    def _networking_for(self, net: base.NetworkSpec) -> LinuxBridgeNetworking:
        if net.segmentation == "vxlan" or net.physical_network is None:
            return self.tenant_networking
        return self._external_networking(net.physical_network)

    def _external_networking(self, name: str) -> LinuxBridgeNetworking:
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
                    self.netns, conf=_bridge_conf(self._conf, dev)
                )
            return self._external[name]

    def _networking_of_bridge(self, bridge: str) -> LinuxBridgeNetworking:
        """The plumbing that made `bridge`: the one whose physical device
        is a port of it (an external network), else the tenants' one."""
        if self._host.link(bridge) is None:
            return self.tenant_networking  # a VXLAN port left at most
        ports = {p["ifname"] for p in self._host.links(master=bridge)}
        for name, dev in self.physical_networks.items():
            if any(p == dev or p.startswith(dev + ".") for p in ports):
                return self._external_networking(name)
        return self.tenant_networking

    def _release(self, bridges: set[str]) -> None:
        for bridge in sorted(bridges):
            if not bridge or not ids.is_valid("network", bridge):
                continue
            try:
                networking = self._networking_of_bridge(bridge)
                with networking.network_lock(bridge):
                    networking.release_network(bridge)
            except Exception:
                # Left for the next release: the router itself is gone.
                LOG.exception("could not release bridge %s", bridge)

    # -- apply ---------------------------------------------------------------

    def last_applied(self, router_id: str) -> base.RouterSpec | None:
        return self._applied.get(router_id)

    def apply(self, router: base.RouterSpec) -> None:
        ns = self.namespace(router.id)
        if router.gateway is not None:
            # A host that cannot carry the external network says so
            # before it makes anything.
            self._networking_for(router.gateway.network)
        # Forgotten until this apply succeeds: after a failure the next
        # one reads everything from the kernel again.
        last = self._applied.pop(router.id, None)
        if (
            last is not None
            and _only_floating_ips_differ(last, router)
            and os.path.exists(os.path.join(NETNS_DIR, ns))
        ):
            self._apply_floating_ips(router, last, ns)
        else:
            self._converge(router, ns)
        self._applied[router.id] = router

    def _apply_floating_ips(
        self, router: base.RouterSpec, last: base.RouterSpec, ns: str
    ) -> None:
        """The fast path of an association: only the floating IPs differ
        from the spec this driver applied last, so the links, bridges and
        routes are as that apply left them (an apply of an unchanged spec,
        as the resync makes, checks them all again).

        The maps change by their elements alone, in one transaction: with
        1,000 floating IPs a whole file costs tens of ms more per
        association. The /32s go in at the same time (in parallel: DNAT
        does not need the address, only ARP does, and both are in before
        the announcement)."""
        before = {
            str(f.address): str(f.fixed_address) for f in last.floating_ips
        }
        now = {
            str(f.address): str(f.fixed_address) for f in router.floating_ips
        }
        added = sorted(f"{a}/32" for a in set(now) - set(before))
        gone = sorted(f"{a}/32" for a in set(before) - set(now))
        with futures.ThreadPoolExecutor(2) as pool:
            addrs = pool.submit(
                self._addr_batch,
                ns,
                "add",
                [f"{a} dev {base.EXTERNAL_DEV}" for a in added],
            )
            self._load_map_changes(router, last, ns)
            addrs.result()
        self._after_ruleset(router, ns, before, gone)
        self._announce(ns, added)
        LOG.info(
            "router %s: floating IPs %d (%d added, %d removed)",
            router.id,
            len(router.floating_ips),
            len(added),
            len(gone),
        )

    def _load_map_changes(
        self, router: base.RouterSpec, last: base.RouterSpec, ns: str
    ) -> None:
        """The maps' elements from `last`'s pairs to `router`'s; if the
        kernel's maps are not `last`'s (nft refuses the transaction
        whole), the whole file instead. The table's digest comment stays
        the older one: _stands_for says which spec it now stands for."""
        text = map_changes(_pairs(last), _pairs(router))
        if not text:
            return  # the same pairs (in another order): nothing to load
        if router.id not in self._loaded:
            # Loaded before this driver object knew it (a test's spec):
            # the comment is the last spec's.
            self._loaded[router.id] = nft_rules.digest(self._render(last))
        try:
            self._run(["nft", "-f", "-"], ns, input=text)
            self._stands_for[router.id] = router
            return
        except base.RouterError as e:
            LOG.warning(
                "router %s: map elements refused (%s); loading the whole "
                "ruleset",
                router.id,
                e,
            )
        self._load_whole(router, ns, self._render(router))

    def _render(self, spec: base.RouterSpec) -> str:
        return nft_rules.render(spec, max_connections=self.max_connections)

    def _load_whole(self, router: base.RouterSpec, ns: str, text: str):
        self._stands_for.pop(router.id, None)
        self._loaded.pop(router.id, None)  # unknown if the load fails
        self._run(["nft", "-f", "-"], ns, input=text)
        self._loaded[router.id] = nft_rules.digest(text)

    def _converge(self, router: base.RouterSpec, ns: str) -> None:
        rip = iproute.IpRoute(ns)
        if self._ensure_namespace(ns):
            LOG.info("router %s: namespace %s created", router.id, ns)
        self._run(
            [
                "sysctl",
                "-q",
                "-w",
                "net.ipv4.ip_forward=1",
                # answer ARP for an address only on the link holding it
                "net.ipv4.conf.all.arp_ignore=1",
                # a new external address added beside the old one is its
                # secondary: it must survive the old one's removal
                "net.ipv4.conf.all.promote_secondaries=1",
            ],
            ns,
        )
        links = {
            link["ifname"]: link
            for link in json.loads(
                self._run(["ip", "-j", "-d", "addr", "show"], ns).stdout
                or "[]"
            )
        }
        release: set[str] = set()

        # The links, each plugged into its bridge.
        wanted: dict[str, set[str]] = {}
        gw = router.gateway
        if gw is not None:
            release |= self._plug(
                gw.network,
                base.host_external_dev(router.id),
                base.EXTERNAL_DEV,
                ns,
                rip,
                links,
            )
            wanted[base.EXTERNAL_DEV] = {str(gw.address)} | {
                f"{f.address}/32" for f in router.floating_ips
            }
        for i in router.interfaces:
            release |= self._plug(
                i.network,
                base.host_tenant_dev(i.network.id),
                i.dev,
                ns,
                rip,
                links,
            )
            wanted[i.dev] = {str(i.address)}
        for dev in sorted(links):
            if dev not in wanted and _is_router_dev(dev):
                release |= self._unplug(router.id, dev, rip)
                links.pop(dev)

        # Addresses: added now; those going from qg0 only after the new
        # ruleset and the flows through them are cut.
        adds: list[str] = []
        dels: list[str] = []
        going: list[str] = []
        for dev, want in wanted.items():
            have = _addresses(links.get(dev))
            # the external address first: /32s then are not its secondaries
            for addr in sorted(want - have, key=lambda a: a.endswith("/32")):
                adds.append(f"{addr} dev {dev}")
            for addr in sorted(have - want):
                if dev == base.EXTERNAL_DEV:
                    going.append(addr)
                else:
                    dels.append(f"{addr} dev {dev}")
        self._addr_batch(ns, "del", dels)
        self._addr_batch(ns, "add", adds)

        # The ruleset, unless the one loaded is this one already.
        text = self._render(router)
        loaded, mapped = self._loaded_ruleset(ns)
        want = nft_rules.digest(text)
        pairs = _pairs(router) if gw else {}
        if loaded == want:
            self._stands_for.pop(router.id, None)
            self._loaded[router.id] = loaded
        elif not (
            self._stands_for.get(router.id) == router
            and self._loaded.get(router.id) == loaded
            and mapped == pairs
        ):
            self._load_whole(router, ns, text)
            LOG.debug("router %s: ruleset loaded", router.id)
        self._after_ruleset(router, ns, mapped, going)
        # After the removals: an old external address taking its subnet
        # route with it would take the default route too.
        self._ensure_default_route(router, ns)
        added = [
            a.split()[0] for a in adds if a.endswith(f" {base.EXTERNAL_DEV}")
        ]
        self._announce(ns, added)
        self._release(release)
        LOG.info(
            "router %s applied: %d interface(s), gateway %s, %d floating "
            "(%d addresses added, %d removed)",
            router.id,
            len(router.interfaces),
            gw.address if gw else "none",
            len(router.floating_ips),
            len(adds),
            len(dels) + len(going),
        )

    def _after_ruleset(
        self,
        router: base.RouterSpec,
        ns: str,
        mapped: dict[str, str],
        going: list[str],
    ) -> None:
        """Once the new ruleset is in: the flows of every floating IP
        removed or mapped elsewhere (and of an external address going) are
        cut, then the addresses going from qg0 removed."""
        now = {
            str(f.address): str(f.fixed_address) for f in router.floating_ips
        }
        cut = {fip for fip, fixed in mapped.items() if now.get(fip) != fixed}
        cut |= {a.split("/")[0] for a in going}
        for ip in sorted(cut):
            self._cut_flows(ns, ip)
        self._addr_batch(
            ns, "del", [f"{a} dev {base.EXTERNAL_DEV}" for a in going]
        )

    def _addr_batch(self, ns: str, verb: str, items: list[str]) -> None:
        """`ip addr <verb> <item>` for each item, in one process."""
        if not items:
            return
        lines = "".join(f"addr {verb} {item}\n" for item in items)
        # `ip -n` enters the namespace itself: no nsenter process.
        self._run(["ip", "-n", ns, "-batch", "-"], None, input=lines)

    def _ensure_namespace(self, ns: str) -> bool:
        if os.path.exists(os.path.join(NETNS_DIR, ns)):
            return False
        res = self._run(["ip", "netns", "add", ns], None, ok_codes=(0, 1))
        if res.exit_code:
            if any(m in res.stderr for m in _EXISTS):
                return False
            raise base.RouterError(f"ip netns add {ns}: {res.stderr.strip()}")
        # A router speaks IPv4 only: no link-local addresses, no RAs.
        self._run(
            [
                "sysctl",
                "-q",
                "-w",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ],
            ns,
            ok_codes=(0, 1, 255),
        )
        self._run(["ip", "link", "set", "dev", "lo", "up"], ns)
        return True

    def _plug(
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
        networking = self._networking_for(net)
        mtu = net.mtu or networking.settings.mtu
        with networking.network_lock(net.id):
            bridge = networking.ensure_network(net.to_message())
            host = self._host.link(host_dev)
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
                    self._host.delete(host_dev)
                self._host.add(
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
                self._host.set(host_dev, "master", bridge, "up")
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
                self._host.set(host_dev, *changes)
            changes = []
            if mine.get("mtu") != mtu:
                changes += ["mtu", mtu]
            if "UP" not in mine.get("flags", ()):
                changes.append("up")
            if changes:
                rip.set(router_dev, *changes)
            return left

    def _unplug(self, router_id: str, dev: str, rip) -> set[str]:
        """Remove a router link no longer in the spec; returns the bridge
        its host end was on."""
        if dev == base.EXTERNAL_DEV:
            host_dev = base.host_external_dev(router_id)
        else:
            host_dev = (
                base.HOST_TENANT_PREFIX + dev[len(base.TENANT_DEV_PREFIX) :]
            )
        host = self._host.link(host_dev)
        rip.delete(dev)  # its peer goes with it
        if host is not None:
            self._host.delete(host_dev)
        LOG.info("router %s: %s removed", router_id, dev)
        return {host.get("master") or ""} if host else set()

    def _ensure_default_route(self, router: base.RouterSpec, ns: str) -> None:
        gw = router.gateway
        want = str(gw.next_hop) if gw and gw.next_hop else None
        routes = json.loads(
            self._run(["ip", "-j", "route", "show", "default"], ns).stdout
            or "[]"
        )
        have = [(r.get("gateway"), r.get("dev")) for r in routes]
        if want and have != [(want, base.EXTERNAL_DEV)]:
            self._run(
                [
                    "ip",
                    "route",
                    "replace",
                    "default",
                    "via",
                    want,
                    "dev",
                    base.EXTERNAL_DEV,
                ],
                ns,
            )
        elif not want and have:
            self._run(["ip", "route", "del", "default"], ns)

    def _loaded_ruleset(self, ns: str) -> tuple[str | None, dict[str, str]]:
        """(digest, fip_dnat's pairs) of the table loaded now."""
        res = self._run(
            ["nft", "-j", "list", "table", "ip", nft_rules.TABLE],
            ns,
            ok_codes=(0, 1),
        )
        if res.exit_code:
            return None, {}
        digest, mapped = None, {}
        for item in json.loads(res.stdout or "{}").get("nftables", []):
            rule = item.get("rule")
            if rule and rule.get("comment"):
                digest = digest or nft_rules.digest(rule["comment"])
            m = item.get("map")
            if m and m.get("name") == "fip_dnat":
                for elem in m.get("elem", []):
                    if isinstance(elem, list) and len(elem) == 2:
                        mapped[str(elem[0])] = str(elem[1])
        return digest, mapped

    def _cut_flows(self, ns: str, ip: str) -> None:
        ipaddress.IPv4Address(ip)  # checked: it came from the kernel
        for direction in ("--orig-dst", "--reply-dst"):
            # exit 1: no flow matched
            self._run(["conntrack", "-D", direction, ip], ns, ok_codes=(0, 1))

    def _announce(self, ns: str, addresses: list[str]) -> None:
        """Gratuitous ARP for each new address on qg0: the upstream router
        learns its MAC now, not when its cache of an older owner (another
        router that held the floating IP) expires."""
        ips = [a.split("/")[0] for a in addresses]
        if not ips:
            return
        if self._arping is None:
            LOG.info("no arping here: %s not announced", ", ".join(ips))
            return
        if len(ips) == 1:
            self._arp(ns, ips[0])
            return
        # A whole router made at once (a resync after a restart): each
        # arping waits a little for nothing; in parallel.
        with futures.ThreadPoolExecutor(min(8, len(ips))) as pool:
            list(pool.map(lambda ip: self._arp(ns, ip), ips))

    def _arp(self, ns: str, ip: str) -> None:
        args = self._arping + ["-I", base.EXTERNAL_DEV, "-s", ip, ip]
        try:
            self._run(args, ns, timeout=5)
        except base.RouterError as e:
            LOG.warning("gratuitous ARP for %s failed: %s", ip, e)

    # -- remove --------------------------------------------------------------

    def remove(self, router_id: str) -> None:
        ns = self.namespace(router_id)
        self._applied.pop(router_id, None)
        self._stands_for.pop(router_id, None)
        self._loaded.pop(router_id, None)
        release: set[str] = set()
        if os.path.exists(os.path.join(NETNS_DIR, ns)):
            rip = iproute.IpRoute(ns)
            for link in rip.links():
                if _is_router_dev(link["ifname"]):
                    # Explicitly: a namespace's devices outlive `ip netns
                    # del` for a while (they go in the kernel's cleanup).
                    release |= self._unplug(router_id, link["ifname"], rip)
            res = self._run(["ip", "netns", "del", ns], None, ok_codes=(0, 1))
            if res.exit_code and os.path.exists(os.path.join(NETNS_DIR, ns)):
                raise base.RouterError(
                    f"ip netns del {ns}: {res.stderr.strip()}"
                )
            LOG.info("router %s removed", router_id)
        # A host end left by a crash between the two deletions.
        host_dev = base.host_external_dev(router_id)
        host = self._host.link(host_dev)
        if host is not None:
            self._host.delete(host_dev)
            release.add(host.get("master") or "")
        self._release(release)

    # -- commands ------------------------------------------------------------

    def _run(self, args, netns, *, ok_codes=(0,), input=None, timeout=TIMEOUT):
        try:
            return runner.run(
                args,
                netns=netns,
                timeout=timeout,
                ok_codes=ok_codes,
                input=input,
            )
        except runner.CommandError as e:
            raise base.RouterError(
                f"{' '.join(args[:4])}…: {e.stderr.strip() or e}"
                + (f" (namespace {netns})" if netns else "")
            ) from e


def map_changes(before: dict[str, str], now: dict[str, str]) -> str:
    """The nft transaction taking fip_dnat (floating -> fixed) and
    fip_snat (fixed -> floating) from the pairs `before` to `now`: every
    element going or changing deleted first, then the new ones added
    (addresses parsed by base.parse_router: safe in the text)."""
    table = f"ip {nft_rules.TABLE}"
    old = {(f, x) for f, x in before.items()}
    new = {(f, x) for f, x in now.items()}
    out = []
    for fip, fixed in sorted(old - new):
        out.append(f"delete element {table} fip_dnat {{ {fip} }}")
        out.append(f"delete element {table} fip_snat {{ {fixed} }}")
    for fip, fixed in sorted(new - old):
        out.append(f"add element {table} fip_dnat {{ {fip} : {fixed} }}")
        out.append(f"add element {table} fip_snat {{ {fixed} : {fip} }}")
    return "".join(line + "\n" for line in out)


def _pairs(spec: base.RouterSpec) -> dict[str, str]:
    return {str(f.address): str(f.fixed_address) for f in spec.floating_ips}


def _only_floating_ips_differ(a: base.RouterSpec, b: base.RouterSpec) -> bool:
    return (
        a.gateway is not None
        and (a.gateway, a.interfaces) == (b.gateway, b.interfaces)
        and set(a.floating_ips) != set(b.floating_ips)
    )


def _is_router_dev(name: str) -> bool:
    return name == base.EXTERNAL_DEV or (
        name.startswith(base.TENANT_DEV_PREFIX) and len(name) == 10
    )


def _addresses(link: dict | None) -> set[str]:
    if not link:
        return set()
    return {
        f"{a['local']}/{a['prefixlen']}"
        for a in link.get("addr_info", [])
        if a.get("family") == "inet"
    }


def _bridge_conf(src, physical_device: str) -> cfg.ConfigOpts:
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


def _arping_command() -> list[str] | None:
    """busybox's arping, else iputils' (both take -U -c -I -s)."""
    busybox = shutil.which("busybox")
    if busybox:
        try:
            listed = runner.run([busybox, "--list"], timeout=5).stdout
        except runner.CommandError:
            listed = ""
        if "arping" in listed.split():
            # -w 0: send and go; with no deadline it waits ~20 ms for an
            # answer that an unsolicited ARP never gets
            return [busybox, "arping", "-U", "-c", "1", "-w", "0"]
    arping = shutil.which("arping")
    if arping:
        return [arping, "-U", "-c", "1"]
    return None
