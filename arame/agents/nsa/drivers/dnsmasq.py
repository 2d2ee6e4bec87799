"""DHCP and DNS for each network through its own dnsmasq, never restarted
for a change.

- An add writes one file per MAC into the directories dnsmasq watches
  (`--dhcp-hostsdir`, `--hostsdir`): served at once, no signal.
- A removal or rename deletes or rewrites that file, frees the lease with
  `dhcp_release`, and marks the network dirty: dnsmasq keeps what it read
  until SIGHUP, and a SIGHUP rereads the whole network, so the removals of
  a short window (`[nsa] reload_delay`) share one. Before that SIGHUP every
  reservation is folded into the base files and the directories emptied:
  dnsmasq reloads one big file much faster than thousands of small ones.
- dnsmasq runs in the foreground under a Supervisor (respawned with
  backoff if it dies), inside `[nsa] netns` when set.
- A reservation may carry an iPXE script (a bare-metal node): it is written
  to the network's TFTP root, where dnsmasq reads it at each boot. The
  first script of a network turns TFTP on, the one change of a
  reservation that restarts dnsmasq (its command line changes); TFTP then
  stays on until dnsmasq restarts for another reason.
"""

import dataclasses
import json
import signal
import threading

from oslo_log import log

from arame.agents.nsa import coalesce, records
from arame.agents.nsa import plumbing as plumbing_module
from arame.agents.nsa import supervisor as sup
from arame.agents.nsa.drivers import dnsmasq_config as config
from arame.agents.nsa.drivers.base import NamingDriver, NetworkNotFound
from arame.agents.nsa.drivers.dnsmasq_files import NetworkDir, network_ids
from arame.agents.nsa.records import Network, Reservation
from arame.agents.nsa.table import Change, ReservationTable
from arame.common import runner
from arame.common.conf import CONF

LOG = log.getLogger(__name__)

# A change writing more files than this is folded and reloaded instead:
# one SIGHUP beats dnsmasq reading that many files one inotify event each.
BULK_WRITES = 64


class _Served:
    """One network being served: its records, files and process."""

    def __init__(
        self, network: Network, ndir: NetworkDir, bridge_created: bool
    ):
        self.network = network
        self.dir = ndir
        self.bridge_created = bridge_created
        self.table = ReservationTable()
        self.supervisor: sup.Supervisor | None = None
        self.to_release: list[Reservation] = []
        self.reloads = 0
        self.pxe = False  # serving TFTP and router advertisements
        self.undionly = False  # and undionly.kpxe to plain PXE ROMs


class DnsmasqDriver(NamingDriver):
    #: bridge (+ segment port) + address: ensure/remove of plumbing.py.
    plumbing = plumbing_module

    def __init__(
        self,
        state_path: str | None = None,
        netns: str | None = None,
        *,
        reload_delay: float | None = None,
        timer=threading.Timer,
        conf=None,
    ):
        c = conf or CONF.nsa
        self.conf = c
        self.state_path = state_path or c.state_path
        self.netns = (netns if netns is not None else c.netns) or None
        self.forwarders = [
            str(records.ipv4(f, "DNS forwarder")) for f in c.dns_forwarders
        ]
        self.backoff = sup.Backoff(cap=c.respawn_max_delay)
        delay = c.reload_delay if reload_delay is None else reload_delay
        self._coalescer = coalesce.Coalescer(delay, self._reload, timer=timer)
        self._served: dict[str, _Served] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    # -- locking -----------------------------------------------------------
    def _lock(self, network_id: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(network_id, threading.RLock())

    def _get(self, network_id: str) -> _Served:
        s = self._served.get(network_id)
        if s is None:
            raise NetworkNotFound(network_id)
        return s

    # -- lifecycle -----------------------------------------------------------
    def init_host(self) -> None:
        for nid in network_ids(self.state_path):
            ndir = NetworkDir(self.state_path, nid)
            sup.end_stale(ndir.paths.pidfile, ndir.paths.pidfile)
            loaded = ndir.load_network()
            if loaded is None:
                LOG.warning(
                    "%s: state directory without a network, left alone: %s",
                    nid,
                    ndir.paths.root,
                )
                continue
            net, created = loaded
            with self._lock(nid):
                try:
                    self._serve(net, ndir, created)
                except Exception:
                    LOG.exception("%s: could not serve again", nid)

    def stop(self) -> None:
        self._coalescer.stop()
        for nid in list(self._served):
            with self._lock(nid):
                s = self._served.get(nid)
                if s is not None and s.supervisor is not None:
                    s.supervisor.stop()

    # -- networks ------------------------------------------------------------
    def networks(self) -> dict[str, Network]:
        return {nid: s.network for nid, s in list(self._served.items())}

    def _serve(
        self,
        net: Network,
        ndir: NetworkDir,
        bridge_created: bool,
        keep: list[Reservation] | None = None,
    ) -> _Served:
        """Plumbing, files and a running dnsmasq for `net` (lock held).
        Serves `keep`, or else what the state directory holds."""
        ndir.prepare()
        created = (
            self.plumbing.ensure(
                net.bridge,
                net.server_interface,
                net.mtu,
                self.netns,
                segment=net.segment,
            )
            or bridge_created
        )
        ndir.save_network(net, created)
        s = _Served(net, ndir, created)
        s.table = ReservationTable(
            keep if keep is not None else ndir.load_reservations(net)
        )
        ndir.fold(net, s.table.all())
        ndir.sync_scripts(s.table.all())
        if any(r.boot_script is not None for r in s.table.all()):
            self._prepare_pxe(s)
        try:
            self._start(s)
        except Exception:
            # Not served: the next ensure_network (or resync) tries again.
            self._served.pop(net.id, None)
            raise
        self._served[net.id] = s
        return s

    def _start(self, s: _Served) -> None:
        p = s.dir.paths
        sup.end_stale(p.pidfile, p.pidfile)
        for path in (p.pidfile, p.stderr):
            try:
                open(path, "w").close()
            except OSError:
                pass
        args = config.argv(
            s.network,
            p,
            binary=self.conf.dnsmasq_binary,
            lease_time=self.conf.dhcp_lease_time,
            user=self.conf.dnsmasq_user,
            forwarders=self.forwarders,
            log_dhcp=self.conf.log_dhcp,
            pxe=s.pxe,
            undionly=s.undionly,
        )

        def ready(pid: int) -> bool:
            try:
                with open(p.pidfile) as f:
                    return f.read().strip() == str(pid)
            except OSError:
                return False

        s.supervisor = sup.Supervisor(
            f"dnsmasq-{s.network.id}",
            args,
            netns=self.netns,
            stderr_path=p.stderr,
            ready=ready,
            backoff=self.backoff,
        )
        s.supervisor.start()

    # -- PXE -----------------------------------------------------------------
    def _prepare_pxe(self, s: _Served) -> None:
        """TFTP root files and the bridge's IPv6 prefix (lock held)."""
        s.undionly = s.dir.prepare_tftp(self.conf.undionly_path or None)
        self._ensure_ra_address(s.network)
        s.pxe = True

    def _ensure_ra_address(self, net: Network) -> None:
        addr = config.ra_address(net)
        try:
            # hva's networking turns IPv6 off on the bridges it makes (a
            # guest would reach the host at its link-local address); a
            # PXE network's bridge needs it for this prefix.
            runner.run(
                [
                    "sysctl",
                    "-q",
                    "-w",
                    f"net.ipv6.conf.{net.bridge}.disable_ipv6=0",
                ],
                netns=self.netns,
                timeout=30,
            )
            out = runner.run(
                ["ip", "-j", "-6", "addr", "show", "dev", net.bridge],
                netns=self.netns,
                timeout=30,
            )
            have = {
                f"{a['local']}/{a['prefixlen']}"
                for link in json.loads(out.stdout or "[]")
                for a in link.get("addr_info", [])
            }
            if addr not in have:
                # nodad: usable at once, and nobody else holds it.
                runner.run(
                    [
                        "ip",
                        "-6",
                        "addr",
                        "add",
                        addr,
                        "dev",
                        net.bridge,
                        "nodad",
                    ],
                    netns=self.netns,
                    timeout=30,
                )
        except (runner.CommandError, ValueError) as e:
            # PXE still works without it, ~13 s slower per boot.
            LOG.warning(
                "%s: no IPv6 prefix on %s for router advertisements: %s",
                net.id,
                net.bridge,
                e,
            )

    def _remove_ra_address(self, net: Network) -> None:
        runner.run(
            [
                "ip",
                "-6",
                "addr",
                "del",
                config.ra_address(net),
                "dev",
                net.bridge,
            ],
            netns=self.netns,
            timeout=30,
            ok_codes=(0, 1, 2),
        )

    def _enable_pxe(self, s: _Served) -> None:
        """The network's first boot script: restart its dnsmasq with TFTP."""
        LOG.info(
            "%s: first boot script, restarting its dnsmasq with TFTP",
            s.network.id,
        )
        self._prepare_pxe(s)
        s.dir.fold(s.network, s.table.all())
        s.supervisor.stop()
        self._start(s)

    def ensure_network(self, network: Network) -> None:
        with self._lock(network.id):
            s = self._served.get(network.id)
            if s is not None and s.network == network:
                return
            ndir = NetworkDir(self.state_path, network.id)
            if s is None:
                self._serve(network, ndir, False)
                return
            if s.network == dataclasses.replace(
                network,
                segmentation=s.network.segmentation,
                segment_id=s.network.segment_id,
            ):
                # Only the segment is new (state saved by a release whose
                # controller sent none): plumb its port, dnsmasq's command
                # line is the same.
                self.plumbing.ensure(
                    network.bridge,
                    network.server_interface,
                    network.mtu,
                    self.netns,
                    segment=network.segment,
                )
                ndir.save_network(network, s.bridge_created)
                s.network = network
                return
            # Settings changed: the command line changes, so this (and only
            # this) restarts dnsmasq. Reservations that still fit stay.
            LOG.info(
                "%s: settings changed, restarting its dnsmasq", network.id
            )
            keep = [r for r in s.table.all() if network.contains(r.ip)]
            self._coalescer.discard(network.id)
            s.supervisor.stop()
            created = s.bridge_created
            if (s.network.bridge, s.network.server_interface) != (
                network.bridge,
                network.server_interface,
            ):
                if s.pxe and not created:
                    self._remove_ra_address(s.network)
                # Only the address moved (the DHCP server leaving the
                # gateway to a router): the bridge carries the guests'
                # NICs, so only the old address goes.
                moved = s.network.bridge == network.bridge
                self.plumbing.remove(
                    s.network.bridge,
                    s.network.server_interface,
                    created and not moved,
                    self.netns,
                    segmented=s.network.segment is not None,
                )
                created = created and moved
            self._serve(network, ndir, created, keep=keep)

    def remove_network(self, network_id: str) -> None:
        with self._lock(network_id):
            self._coalescer.discard(network_id)
            s = self._served.pop(network_id, None)
            ndir = NetworkDir(self.state_path, network_id)
            if s is None:
                # Not served by this run: maybe left by an earlier one.
                sup.end_stale(ndir.paths.pidfile, ndir.paths.pidfile)
                loaded = ndir.load_network()
                if loaded is not None:
                    net, created = loaded
                    self._remove_ra_address(net)
                    self.plumbing.remove(
                        net.bridge,
                        net.server_interface,
                        created,
                        self.netns,
                        segmented=net.segment is not None,
                    )
            else:
                s.supervisor.stop()
                if s.pxe:
                    # Also on a bridge nsa made: it stays while a guest's
                    # tap is on it, and an address would keep it for good.
                    self._remove_ra_address(s.network)
                self.plumbing.remove(
                    s.network.bridge,
                    s.network.server_interface,
                    s.bridge_created,
                    self.netns,
                    segmented=s.network.segment is not None,
                )
            ndir.destroy()

    # -- reservations --------------------------------------------------------
    def reservations(self, network_id: str) -> list[Reservation]:
        with self._lock(network_id):
            return self._get(network_id).table.all()

    def _apply(self, s: _Served, change: Change) -> None:
        if not change:
            return
        bulk = len(change.written) > BULK_WRITES
        if not bulk:
            for res in change.written:
                s.dir.write_host(s.network, res)
        for res in change.written:
            s.dir.write_script(res)
        gone = {r.mac for r in change.dropped} - {
            r.mac for r in change.written
        }
        for mac in gone:
            s.dir.remove_host(mac)
            s.dir.remove_script(mac)
        s.to_release.extend(change.dropped)
        if not s.pxe and any(
            r.boot_script is not None for r in change.written
        ):
            self._enable_pxe(s)
        if change.dropped or bulk:
            self._coalescer.mark(s.network.id)

    def add_reservation(self, network_id: str, res: Reservation) -> None:
        with self._lock(network_id):
            s = self._get(network_id)
            self._apply(s, s.table.add(res))

    def remove_reservation(self, network_id: str, mac: str) -> None:
        with self._lock(network_id):
            s = self._get(network_id)
            self._apply(s, s.table.remove(mac))

    def sync(self, network: Network, reservations: list[Reservation]) -> dict:
        with self._lock(network.id):
            self.ensure_network(network)
            s = self._get(network.id)
            change = s.table.replace_all(reservations)
            self._apply(s, change)
        return {"written": len(change.written), "dropped": len(change.dropped)}

    # -- reload ----------------------------------------------------------------
    def _releases(self, s: _Served) -> list[tuple[Reservation, list[str]]]:
        """dhcp_release commands for the dropped reservations that hold a
        lease: a lease outlives its dhcp-host line, and keeps its address
        from the next MAC given it."""
        todo, s.to_release = s.to_release, []
        leases = s.dir.leases() if todo else {}
        out = []
        for res in todo:
            lease = leases.get(res.mac)
            if lease is None or lease[0] != str(res.ip):
                continue
            args = [
                self.conf.dhcp_release_binary,
                s.network.bridge,
                str(res.ip),
                res.mac,
            ] + ([lease[1]] if lease[1] else [])
            out.append((res, args))
        return out

    def _reload(self, network_id: str) -> None:
        with self._lock(network_id):
            s = self._served.get(network_id)
            if s is None:
                return
            s.dir.fold(s.network, s.table.all())
            s.supervisor.signal(signal.SIGHUP)
            s.reloads += 1
            releases = self._releases(s)
        # Outside the lock: one process each, and adds need not wait.
        for res, args in releases:
            if s.table.get(res.mac) == res:
                continue  # dropped and added back meanwhile
            try:
                runner.run(args, netns=self.netns, timeout=10)
            except runner.CommandError as e:
                LOG.warning(
                    "%s: could not release %s (%s): %s",
                    network_id,
                    res.ip,
                    res.mac,
                    e,
                )

    def flush(self) -> None:
        """Send the reloads now instead of at the end of the window."""
        self._coalescer.flush()

    # -- status ----------------------------------------------------------------
    def network_status(self, network_id: str) -> dict:
        with self._lock(network_id):
            s = self._get(network_id)
            pid = s.supervisor.pid if s.supervisor else None
            return {
                "reservations": len(s.table),
                "running": pid is not None,
                "pid": pid,
                "restarts": s.supervisor.restarts,
                "reloads": s.reloads,
                "bridge": s.network.bridge,
                "pxe": s.pxe,
                "cidr": str(s.network.cidr),
                "reload_pending": network_id in self._coalescer.pending(),
            }
