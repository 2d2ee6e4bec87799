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

This module decides what to change; the links and bridges are
netns_plumbing's, the processes netns_commands', the map elements of an
association netns_floating's. An association's kernel changes (nft, the
/32, the flows cut, the ARP) are made from this process where it can
(netns_inproc: no process starts on that path), else by the commands.
"""

import json
import os
import re
from concurrent import futures

from oslo_log import log

from arame.agents.hva.networking import iproute
from arame.agents.l3.drivers import base, nft_rules
from arame.agents.l3.drivers import netns_commands as commands
from arame.agents.l3.drivers.netns_floating import (
    changes,
    map_changes,
    only_floating_ips_differ,
    pairs,
)
from arame.agents.l3.drivers.netns_inproc import InProcess, Unavailable
from arame.agents.l3.drivers.netns_plumbing import (
    Plumbing,
    UnknownPhysicalNetwork,
    is_router_dev,
)
from arame.common.conf import CONF

LOG = log.getLogger(__name__)

__all__ = ["NETNS_DIR", "NetnsRouterDriver", "UnknownPhysicalNetwork"]

NETNS_DIR = "/run/netns"
DEFAULT_PHYSICAL_NETWORKS = {"public": "eth1"}

_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")
_PREFIX_RE = re.compile(r"[A-Za-z0-9_.-]{0,32}")
_DEVICE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")
_EXISTS = ("File exists", "already exists")


class NetnsRouterDriver(base.RouterDriver):
    def __init__(
        self,
        netns: str | None = None,
        namespace_prefix: str = "arame-",
        physical_networks: dict[str, str] | None = None,
        max_connections: int | None = nft_rules.DEFAULT_MAX_CONNECTIONS,
        *,
        conf=None,
        in_process: bool | None = None,
    ):
        """`netns`: the namespace holding the bridges (None: ours).
        `physical_networks`: physical network name -> device (default
        {"public": "eth1"}). `conf`: where [hva_networking] (VXLAN
        underlay, MTU) is read; the global CONF by default.
        `in_process`: nft, the /32s and ARP of an association from this
        process (netns_inproc); None: where it can, False: never."""
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
        self.plumbing = Plumbing(
            self.netns, self.physical_networks, self._conf
        )
        # The spec each router was last applied with, successfully.
        self._applied: dict[str, base.RouterSpec] = {}
        # The digest comment of the table this driver last loaded whole.
        self._loaded: dict[str, str | None] = {}
        # After map elements changed alone, that comment is an older
        # spec's: the spec the table now stands for, so that a full apply
        # of the same spec does not load the whole file again for a stale
        # comment.
        self._stands_for: dict[str, base.RouterSpec] = {}
        self._announcer = commands.Announcer()
        self._inproc = (
            InProcess.open(NETNS_DIR) if in_process is not False else None
        )

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

    # -- bridges (tests and the plumbing's callers) ---------------------------

    @property
    def tenant_networking(self):
        return self.plumbing.tenant_networking

    def _external_networking(self, name: str):
        return self.plumbing.external_networking(name)

    # -- apply ---------------------------------------------------------------

    def last_applied(self, router_id: str) -> base.RouterSpec | None:
        return self._applied.get(router_id)

    def apply(self, router: base.RouterSpec) -> None:
        ns = self.namespace(router.id)
        if router.gateway is not None:
            # A host that cannot carry the external network says so
            # before it makes anything.
            self.plumbing.networking_for(router.gateway.network)
        # Forgotten until this apply succeeds: after a failure the next
        # one reads everything from the kernel again.
        last = self._applied.pop(router.id, None)
        diff = changes(last, router) if last is not None else None
        if (
            last is not None
            and only_floating_ips_differ(last, router, diff)
            and os.path.exists(os.path.join(NETNS_DIR, ns))
        ):
            self._apply_floating_ips(router, last, ns, *diff)
        else:
            self._converge(router, ns)
        self._applied[router.id] = router

    def _apply_floating_ips(
        self,
        router: base.RouterSpec,
        last: base.RouterSpec,
        ns: str,
        old: dict[str, str],
        new: dict[str, str],
    ) -> None:
        """The fast path of an association: only the floating IPs differ
        from the spec this driver applied last, so the links, bridges and
        routes are as that apply left them (an apply of an unchanged spec,
        as the resync makes, checks them all again).

        The maps change by their elements alone, in one transaction: with
        1,000 floating IPs a whole file costs tens of ms more per
        association. The /32s go in at the same time (in parallel: DNAT
        does not need the address, only ARP does, and both are in before
        the announcement).

        `old`, `new`: the pairs going and coming (netns_floating.changes:
        only those are turned into text)."""
        added = sorted(f"{a}/32" for a in new.keys() - old.keys())
        gone = sorted(f"{a}/32" for a in old.keys() - new.keys())
        text = map_changes(old, new)
        if self._inproc is not None:
            # ~1 ms in this process, where each command below is a
            # process start (10-60 ms on a loaded host)
            self._addresses(ns, "add", added)
            self._load_map_changes(router, last, ns, text)
        else:
            with futures.ThreadPoolExecutor(2) as pool:
                addrs = pool.submit(self._addresses, ns, "add", added)
                self._load_map_changes(router, last, ns, text)
                addrs.result()
        self._after_ruleset(router, ns, old, gone, now=new)
        self._announce(ns, added)
        LOG.info(
            "router %s: floating IPs %d (%d added, %d removed)",
            router.id,
            len(router.floating_ips),
            len(added),
            len(gone),
        )

    def _load_map_changes(
        self,
        router: base.RouterSpec,
        last: base.RouterSpec,
        ns: str,
        text: str,
    ) -> None:
        """The maps' elements from `last`'s pairs to `router`'s; if the
        kernel's maps are not `last`'s (nft refuses the transaction
        whole), the whole file instead. The table's digest comment stays
        the older one: _stands_for says which spec it now stands for.
        `text`: map_changes from `last`'s pairs to `router`'s."""
        if not text:
            return  # the same pairs (in another order): nothing to load
        if router.id not in self._loaded:
            # Loaded before this driver object knew it (a test's spec):
            # the comment is the last spec's.
            self._loaded[router.id] = nft_rules.digest(self._render(last))
        try:
            self._nft(ns, text)
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
        self._nft(ns, text)
        self._loaded[router.id] = nft_rules.digest(text)

    # -- in this process where it can, else commands -------------------------

    def _nft(self, ns: str, text: str) -> None:
        if self._inproc is not None:
            try:
                return self._inproc.nft(ns, text)
            except Unavailable as e:
                LOG.warning("%s: in-process nft unavailable: %s", ns, e)
        commands.run(["nft", "-f", "-"], ns, input=text)

    def _addresses(self, ns: str, verb: str, cidrs: list[str]) -> None:
        """`verb` the /32s `cidrs` on qg0."""
        if self._inproc is not None and cidrs:
            try:
                return self._inproc.addresses(
                    ns, verb, base.EXTERNAL_DEV, cidrs
                )
            except Unavailable as e:
                LOG.warning("%s: in-process addresses unavailable: %s", ns, e)
        commands.addr_batch(
            ns, verb, [f"{a} dev {base.EXTERNAL_DEV}" for a in cidrs]
        )

    def _cut_flows(self, ns: str, ips: list[str]) -> None:
        if self._inproc is not None and ips:
            try:
                return self._inproc.cut_flows(ns, ips)
            except Unavailable as e:
                LOG.warning("%s: in-process conntrack unavailable: %s", ns, e)
        for ip in ips:
            commands.cut_flows(ns, ip)

    def _announce(self, ns: str, added: list[str]) -> None:
        if self._inproc is not None and added:
            ips = [a.split("/")[0] for a in added]
            try:
                return self._inproc.announce(ns, base.EXTERNAL_DEV, ips)
            except Exception as e:  # noqa: BLE001  (an ARP is best effort)
                LOG.warning("%s: in-process ARP failed: %s", ns, e)
        self._announcer.announce(ns, added)

    def _converge(self, router: base.RouterSpec, ns: str) -> None:
        rip = iproute.IpRoute(ns)
        if self._ensure_namespace(ns):
            LOG.info("router %s: namespace %s created", router.id, ns)
        commands.run(
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
                commands.run(["ip", "-j", "-d", "addr", "show"], ns).stdout
                or "[]"
            )
        }
        release: set[str] = set()

        # The links, each plugged into its bridge.
        wanted: dict[str, set[str]] = {}
        gw = router.gateway
        if gw is not None:
            release |= self.plumbing.plug(
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
            release |= self.plumbing.plug(
                i.network,
                base.host_tenant_dev(i.network.id),
                i.dev,
                ns,
                rip,
                links,
            )
            wanted[i.dev] = {str(i.address)}
        for dev in sorted(links):
            if dev not in wanted and is_router_dev(dev):
                release |= self.plumbing.unplug(router.id, dev, rip)
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
        commands.addr_batch(ns, "del", dels)
        commands.addr_batch(ns, "add", adds)

        # The ruleset, unless the one loaded is this one already.
        text = self._render(router)
        loaded, mapped = commands.loaded_ruleset(ns)
        want = nft_rules.digest(text)
        want_pairs = pairs(router) if gw else {}
        # The digest alone does not say the maps are the spec's: map
        # elements change without it (an association), also by an agent
        # killed before it could remember (tests/integration/l3/
        # test_restart.py).
        if loaded == want and mapped == want_pairs:
            self._stands_for.pop(router.id, None)
            self._loaded[router.id] = loaded
        elif not (
            self._stands_for.get(router.id) == router
            and self._loaded.get(router.id) == loaded
            and mapped == want_pairs
        ):
            self._load_whole(router, ns, text)
            LOG.debug("router %s: ruleset loaded", router.id)
        self._after_ruleset(router, ns, mapped, going)
        # After the removals: an old external address taking its subnet
        # route with it would take the default route too.
        commands.ensure_default_route(router, ns)
        added = [
            a.split()[0] for a in adds if a.endswith(f" {base.EXTERNAL_DEV}")
        ]
        self._announcer.announce(ns, added)
        self.plumbing.release(release)
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
        now: dict[str, str] | None = None,
    ) -> None:
        """Once the new ruleset is in: the flows of every floating IP
        removed or mapped elsewhere (and of an external address going) are
        cut, then the addresses going from qg0 removed. `now`: the
        router's pairs (those of `mapped`'s addresses at least)."""
        if now is None:
            now = pairs(router)
        cut = {fip for fip, fixed in mapped.items() if now.get(fip) != fixed}
        cut |= {a.split("/")[0] for a in going}
        self._cut_flows(ns, sorted(cut))
        self._addresses(ns, "del", going)

    def _ensure_namespace(self, ns: str) -> bool:
        if os.path.exists(os.path.join(NETNS_DIR, ns)):
            return False
        res = commands.run(["ip", "netns", "add", ns], None, ok_codes=(0, 1))
        if res.exit_code:
            if any(m in res.stderr for m in _EXISTS):
                return False
            raise base.RouterError(f"ip netns add {ns}: {res.stderr.strip()}")
        # A router speaks IPv4 only: no link-local addresses, no RAs.
        commands.run(
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
        commands.run(["ip", "link", "set", "dev", "lo", "up"], ns)
        return True

    # -- remove --------------------------------------------------------------

    def remove(self, router_id: str) -> None:
        ns = self.namespace(router_id)
        self._applied.pop(router_id, None)
        self._stands_for.pop(router_id, None)
        self._loaded.pop(router_id, None)
        release: set[str] = set()
        if self._inproc is not None:
            # its thread first: a thread inside keeps the namespace alive
            self._inproc.drop(ns)
        if os.path.exists(os.path.join(NETNS_DIR, ns)):
            rip = iproute.IpRoute(ns)
            for link in rip.links():
                if is_router_dev(link["ifname"]):
                    # Explicitly: a namespace's devices outlive `ip netns
                    # del` for a while (they go in the kernel's cleanup).
                    release |= self.plumbing.unplug(
                        router_id, link["ifname"], rip
                    )
            res = commands.run(
                ["ip", "netns", "del", ns], None, ok_codes=(0, 1)
            )
            if res.exit_code and os.path.exists(os.path.join(NETNS_DIR, ns)):
                raise base.RouterError(
                    f"ip netns del {ns}: {res.stderr.strip()}"
                )
            LOG.info("router %s removed", router_id)
        # A host end left by a crash between the two deletions.
        host_dev = base.host_external_dev(router_id)
        host = self.plumbing.host.link(host_dev)
        if host is not None:
            self.plumbing.host.delete(host_dev)
            release.add(host.get("master") or "")
        self.plumbing.release(release)


def _addresses(link: dict | None) -> set[str]:
    if not link:
        return set()
    return {
        f"{a['local']}/{a['prefixlen']}"
        for a in link.get("addr_info", [])
        if a.get("family") == "inet"
    }
