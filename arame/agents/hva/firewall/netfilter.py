"""Security groups on a Linux bridge host: iptables + ipset + ebtables.

Steady state, applying a port is one `ipset restore` (its groups' members)
and one `iptables-restore --noflush` (its two chains and the dispatch
chains), both generated as text by pure functions. A new port, or one whose
tap, MAC or address changed, also gets one `ebtables-restore` (layer 2) and
one conntrack scan. Whenever what a port lets in shrinks (a rule removed, a
member gone), the established flows no longer allowed are cut.

The object keeps what it applied, so that it can rebuild the dispatch
chains and tell when permissions shrink without reading the ruleset back.
It loads that from `iptables-save` once (`setup()`, or lazily), which is
also how an agent restart recovers its ports. One object per host: its
lock serialises the restores.
"""

import dataclasses
import functools
import threading
import time

from oslo_log import log

from arame.agents.hva.firewall import (
    base,
    conntrack,
    ebtables,
    ipsets,
    iptables,
)
from arame.agents.hva.firewall.port import (
    InvalidPort,
    Port,
    check_group_id,
    check_instance_id,
    check_ips,
)
from arame.common import runner

LOG = log.getLogger(__name__)

TIMEOUT = 30.0


@dataclasses.dataclass(frozen=True)
class _Entry:
    port: Port  # recovered after a restart: no groups
    group_ids: frozenset  # groups whose sets its chains match
    known: bool = True  # False when recovered: rules unknown
    l2: bool = True  # its ebtables chain is in place

    @property
    def identity(self) -> tuple:
        return (self.port.device, self.port.mac, self.port.ip)


def _reloads_once(method):
    """A chain this agent knows was removed by someone else (an operator,
    another agent sharing the namespace): iptables-restore then refuses
    every ruleset naming it. Reload what iptables holds and try once more
    rather than fail every change from now on."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except runner.CommandError as e:
            if "does not exist" not in str(e):
                raise
            LOG.warning("firewall changed under this agent (%s): reloading", e)
            with self._lock:
                self._ready = False
                self._load()
            return method(self, *args, **kwargs)

    return wrapper


class NetfilterFirewall(base.Firewall):
    def __init__(self, netns: str | None = None):
        super().__init__(netns)
        self._lock = threading.RLock()
        self._ready = False
        self._entries: dict[str, _Entry] = {}
        self._members: dict[str, tuple[str, ...]] = {}
        self._restore = ["iptables-restore", "--noflush"]
        #: seconds the last iptables-restore took (for benchmarks)
        self.last_restore_s = 0.0

    # -- the interface -------------------------------------------------

    def setup(self) -> None:
        with self._lock:
            self._load()

    def apply_port(self, port: dict) -> None:
        self.apply_ports([port])

    @_reloads_once
    def apply_ports(self, ports: list[dict]) -> None:
        """Every port in one go: one `ipset restore`, one iptables-restore
        of all their chains, at most one ebtables-restore and one conntrack
        listing, however many ports (a group change on a host with 50
        members costs about one port's commands, not 50 times that)."""
        news, cache = {}, {}
        for d in ports:
            p = Port.from_dict(d, cache)  # all checked before anything runs
            news[p.instance_id] = p
        if not news:
            return
        with self._lock:
            self._ensure_ready()
            olds = {iid: self._entries.get(iid) for iid in news}
            members_before = dict(self._members)
            wanted: dict[str, tuple[str, ...] | None] = {}
            for p in news.values():
                for gid in p.group_ids():
                    if wanted.get(gid) is None:
                        wanted[gid] = p.members.get(gid)
            ipsets.restore(ipsets.render(wanted), self.netns)
            fresh = {iid: _Entry(p, p.group_ids()) for iid, p in news.items()}
            entries = {**self._entries, **fresh}
            taps = self._taps(entries)
            try:
                self._iptables(
                    iptables.render(taps, rewrite=list(news.values()))
                )
            except runner.CommandError:
                self._collect_sets(set(wanted))  # made for nothing
                raise
            l2 = [
                news[iid]
                for iid, old in olds.items()
                if old is None
                or not old.l2
                or old.identity != fresh[iid].identity
            ]
            if l2:
                self._ebtables(ebtables.render(taps, rewrite=l2))
            self._entries = entries
            for p in news.values():
                self._members.update(p.members)
            cuts = []
            for iid, p in news.items():
                old, allowed = olds[iid], p.allowance(self._members)
                # A new port (its address may have been another guest's),
                # a recovered one, or one that lost a permission.
                if (
                    old is None
                    or not old.known
                    or not old.port.allowance(members_before) <= allowed
                ):
                    cuts.append((p.ip, allowed))
            cuts += self._shrunk_group_cuts(members_before, skip=set(news))
            conntrack.cut_many(cuts, self.netns)
            gone = set().union(
                *(o.group_ids for o in olds.values() if o is not None)
            )
            if gone:
                self._collect_sets(gone)

    @_reloads_once
    def remove_port(self, instance_id: str) -> None:
        check_instance_id(instance_id)
        with self._lock:
            self._ensure_ready()
            old = self._entries.get(instance_id)
            if old is None:
                return
            entries = {
                i: e for i, e in self._entries.items() if i != instance_id
            }
            taps = self._taps(entries)
            # Declaring a chain creates it if missing, so -X always works.
            self._iptables(iptables.render(taps, remove=[instance_id]))
            self._ebtables(ebtables.render(taps, remove=[instance_id]))
            self._entries = entries
            self._collect_sets(old.group_ids)

    @_reloads_once
    def set_group_members(self, group_id: str, ips: list[str]) -> None:
        check_group_id(group_id)
        members = check_ips(ips)
        with self._lock:
            self._ensure_ready()
            before = dict(self._members)
            if any(group_id in e.group_ids for e in self._entries.values()):
                ipsets.restore(ipsets.render({group_id: members}), self.netns)
                self._members[group_id] = members
                self._cut_shrunk_groups(before)

    def ports(self) -> set[str]:
        saved = iptables.parse_save(
            self._save(["iptables-save", "-t", "filter"])
        )
        return set(saved["ports"])

    # -- helpers ---------------------------------------------------------

    def _ensure_ready(self) -> None:
        # Rebuilding the dispatch chains from an empty cache would drop
        # the filtering of every port already there: load first.
        if not self._ready:
            self._load()

    def _load(self) -> None:
        """Recover the ports an earlier run applied, create the base chains
        and jumps that are missing, and rebuild layer 2 from what iptables
        holds."""
        version = runner.run(
            ["iptables-restore", "--version"],
            netns=self.netns,
            timeout=TIMEOUT,
        ).stdout
        if "legacy" in version:
            # The legacy backend takes a global lock; nft needs none.
            self._restore = ["iptables-restore", "--noflush", "--wait=10"]
        saved = iptables.parse_save(
            self._save(["iptables-save", "-t", "filter"])
        )
        l2_saved = ebtables.parse_save(
            self._save(["ebtables-save", "-t", "filter"])
        )
        entries = {}
        for iid, p in saved["ports"].items():
            try:
                # What was read back goes into ebtables text: check it again.
                port = Port.from_dict(
                    {
                        "instance_id": iid,
                        "device": p["tap"],
                        "mac": p["mac"],
                        "ip": p["ip"],
                    }
                )
                l2 = True
            except InvalidPort:
                LOG.warning(
                    "firewall chains of %s are incomplete; the next "
                    "apply_port or remove_port repairs them",
                    iid,
                )
                port, l2 = Port(iid, "", "", "", ()), False
            entries[iid] = _Entry(
                port, frozenset(p["groups"]), known=False, l2=l2
            )
        self._iptables(
            iptables.render_setup(
                saved["chains"], saved["forward_jump"], saved["input_jump"]
            )
        )
        taps = self._taps(entries)
        self._ebtables(
            ebtables.render(
                taps,
                rewrite=[e.port for e in entries.values() if e.l2],
                remove=sorted(l2_saved["ports"] - set(entries)),
                forward_jump=l2_saved["forward_jump"],
                input_jump=l2_saved["input_jump"],
            )
        )
        self._entries = entries
        self._ready = True

    @staticmethod
    def _taps(entries: dict[str, _Entry]) -> dict[str, str]:
        return {
            iid: e.port.device for iid, e in entries.items() if e.port.device
        }

    def _cut_shrunk_groups(self, before: dict, skip=frozenset()) -> None:
        conntrack.cut_many(self._shrunk_group_cuts(before, skip), self.netns)

    def _shrunk_group_cuts(self, before: dict, skip=frozenset()) -> list:
        """(ip, allowance) of the ports using a group that lost members.
        (A group whose members were not known before has not lost any we
        knew of: the port that uses it was applied without them.)"""
        shrunk = {
            gid
            for gid, now in self._members.items()
            if gid in before and not set(before[gid]) <= set(now)
        }
        return [
            (e.port.ip, e.port.allowance(self._members))
            for iid, e in sorted(self._entries.items())
            if iid not in skip and e.known and e.group_ids & shrunk
        ]

    def _collect_sets(self, candidates) -> None:
        """Destroy the sets among candidates that no chain matches now
        (after the restore that removed the last reference)."""
        used = set().union(*(e.group_ids for e in self._entries.values()))
        unused = set(candidates) - used
        if unused:
            ipsets.destroy(unused, self.netns)
            for gid in unused:
                self._members.pop(gid, None)

    def _save(self, args: list[str]) -> str:
        return runner.run(args, netns=self.netns, timeout=TIMEOUT).stdout

    def _iptables(self, text: str) -> None:
        t0 = time.monotonic()
        runner.run(
            self._restore, input=text, netns=self.netns, timeout=TIMEOUT
        )
        self.last_restore_s = time.monotonic() - t0

    def _ebtables(self, text: str) -> None:
        runner.run(
            ["ebtables-restore", "--noflush"],
            input=text,
            netns=self.netns,
            timeout=TIMEOUT,
        )
