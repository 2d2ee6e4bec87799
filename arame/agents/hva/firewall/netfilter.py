"""Security groups on a Linux bridge host: iptables + ipset + ebtables.

A chain per security group holds its rules once (`arame-sg-<id>`); each
port's in-chain keeps what is its own (conntrack state, DHCP, the final
DROP) and jumps to its groups' chains. So a rule change of a group is one
`iptables-restore --noflush` of that group's chain, however many members
the host has, and a batch (`apply_ports`) writes only what differs from
what this object applied: the groups whose rules changed, the ports whose
tap, address, MAC or groups changed, the dispatch chains when a tap came
or went, and the removal of group chains no port uses any more, all in
one transaction. Sets (ipset) are written before the rules that match
them; a new port, or one whose tap, MAC or address changed, also gets one
`ebtables-restore` (layer 2). Whenever what a port lets in shrinks (a rule
removed, a member gone), the established flows no longer allowed are cut
with one conntrack listing.

The object keeps what it applied, so that it can tell what changed and
when permissions shrink without reading the ruleset back. It loads that
from `iptables-save` once (`setup()`, or lazily), which is also how an
agent restart recovers: ports and group chains found are "unknown" (the
next apply rewrites them and cuts what they no longer allow), group chains
no port jumps to and sets no chain matches are removed.

Killed halfway through a change, the host is left with one of: the sets
written but no rule changed (an unused set: removed at the next start or
used by the retried change), the rules changed but layer 2 or the flow
cut not done (the next start rewrites layer 2 for every port; the retried
change finds the ports unknown and cuts what they no longer allow). Every
iptables step is one transaction, so no chain is ever half written.
One object per host: its lock serialises the restores.
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
    Group,
    InvalidPort,
    Port,
    check_group_id,
    check_instance_id,
    check_ips,
    group_allowance,
    parsed_groups,
)
from arame.common import runner

LOG = log.getLogger(__name__)

TIMEOUT = 30.0


@dataclasses.dataclass(frozen=True)
class _Entry:
    port: Port  # its identity; groups are in the group chains
    group_ids: tuple = ()  # the group chains its in-chain jumps to
    sets: frozenset = frozenset()  # sets its own chain matches (old rules)
    known: bool = True  # False when recovered: its chains unverified
    l2: bool = True  # its ebtables chain is in place

    @property
    def identity(self) -> tuple:
        return (self.port.device, self.port.mac, self.port.ip)

    @property
    def key(self) -> tuple:
        """Everything its two chains are made of."""
        return self.identity + (self.group_ids,)


@dataclasses.dataclass(frozen=True)
class _GroupChain:
    group: Group | None  # None when recovered: its rules unknown
    sets: frozenset  # group ids of the sets its rules match

    @classmethod
    def of(cls, group: Group) -> "_GroupChain":
        refs = {r.group_id for r in group.rules if r.group_id is not None}
        return cls(group, frozenset({group.id} | refs))


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
        self._groups: dict[str, _GroupChain] = {}
        self._members: dict[str, tuple[str, ...]] = {}
        self._parsed: dict = {}  # see port.parsed_groups
        # The taps the dispatch chains were last written for (None:
        # unknown, the next change writes them).
        self._dispatch: dict[str, str] | None = None
        self._restore = ["iptables-restore", "--noflush"]
        #: seconds the last iptables-restore took, and the time.time() it
        #: ended at (for benchmarks)
        self.last_restore_s = 0.0
        self.last_restore_end = 0.0

    # -- the interface -------------------------------------------------

    def setup(self) -> None:
        with self._lock:
            self._load()

    def apply_port(self, port: dict) -> None:
        self.apply_ports([port])

    @_reloads_once
    def apply_ports(self, ports: list[dict]) -> None:
        """Every port in one go: at most one `ipset restore`, one
        iptables-restore, one ebtables-restore and one conntrack listing,
        however many ports; what is already as asked is not rewritten
        (a group change on a host with 50 members rewrites the group's
        chain, not the 50 members' chains)."""
        # Groups applied before, sent again unchanged, are not checked
        # again (their text is the same: the Group object is reused).
        news, cache = {}, dict(self._parsed)
        for d in ports:
            p = Port.from_dict(d, cache)  # all checked before anything runs
            news[p.instance_id] = p
        if not news:
            return
        with self._lock:
            self._ensure_ready()
            self._apply(news)
            self._parsed = parsed_groups(
                {**self._parsed, **cache},
                [c.group for c in self._groups.values() if c.group],
            )

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
            groups, drop = self._without_unused(self._groups, entries)
            taps = self._taps(entries)
            # Declaring a chain creates it if missing, so -X always works.
            dropped = self._iptables(
                iptables.render(taps, remove=[instance_id], drop_groups=drop),
                iptables.render(taps, remove=[instance_id]),
                drop,
            )
            self._ebtables(ebtables.render(taps, remove=[instance_id]))
            gone = set(old.sets).union(
                *(self._groups[g].sets for g in drop if dropped)
            )
            self._entries, self._groups, self._dispatch = entries, groups, taps
            self._collect_sets(gone)

    @_reloads_once
    def set_group_members(self, group_id: str, ips: list[str]) -> None:
        check_group_id(group_id)
        members = check_ips(ips)
        with self._lock:
            self._ensure_ready()
            before = dict(self._members)
            if group_id in self._used_sets():
                ipsets.restore(ipsets.render({group_id: members}), self.netns)
                self._members[group_id] = members
                self._cut(self._groups, before, {}, set())

    def ports(self) -> set[str]:
        saved = iptables.parse_save(
            self._save(["iptables-save", "-t", "filter"])
        )
        return set(saved["ports"])

    # -- a batch ---------------------------------------------------------

    def _apply(self, news: dict[str, Port]) -> None:
        olds = {iid: self._entries.get(iid) for iid in news}
        # A group's rules as this batch gives them (the ports of one batch
        # carry the same; were they not, the last port's would win: the
        # chain is the group's, not the port's).
        given: dict[str, Group] = {}
        for p in news.values():
            for g in p.groups:
                if g.id not in given or given[g.id].older_than(g):
                    given[g.id] = g
        for gid, g in given.items():
            # A spec read before the group's last change but applied after
            # it (a build, an instance's groups changed) must not put the
            # older rules back for every member on the host.
            have = self._groups.get(gid)
            if have is not None and have.group is not None:
                if g.older_than(have.group):
                    given[gid] = have.group
        changed = [
            g
            for gid, g in given.items()
            if gid not in self._groups or self._groups[gid].group != g
        ]
        groups = {
            **self._groups,
            **{g.id: _GroupChain.of(g) for g in changed},
        }
        fresh = {
            iid: _Entry(
                Port(iid, p.device, p.mac, p.ip, ()), p.own_group_ids()
            )
            for iid, p in news.items()
        }
        rewrite = [
            news[iid]
            for iid, old in olds.items()
            if old is None or not old.known or old.key != fresh[iid].key
        ]
        entries = {**self._entries, **fresh}
        groups, drop = self._without_unused(groups, entries)
        taps = self._taps(entries)
        dispatch = taps if taps != self._dispatch else None

        members_before = dict(self._members)
        wanted = self._wanted_sets(news)
        ipsets.restore(ipsets.render(wanted), self.netns)
        dropped = True
        if dispatch is not None or rewrite or changed or drop:
            try:
                dropped = self._iptables(
                    iptables.render(
                        dispatch, rewrite, groups=changed, drop_groups=drop
                    ),
                    iptables.render(dispatch, rewrite, groups=changed),
                    drop,
                )
            except runner.CommandError:
                self._collect_sets(set(wanted))  # made for nothing
                raise
        else:
            self.last_restore_s = 0.0
        l2 = [
            news[iid]
            for iid, old in olds.items()
            if old is None or not old.l2 or old.identity != fresh[iid].identity
        ]
        if l2:
            self._ebtables(ebtables.render(taps, rewrite=l2))
        old_groups = self._groups
        # Sets that a chain matched before and may match no more.
        gone = set().union(
            *(old_groups[g].sets for g in drop if dropped),
            *(old_groups[g.id].sets for g in changed if g.id in old_groups),
            *(o.sets for o in olds.values() if o),
        )
        self._entries, self._groups, self._dispatch = entries, groups, taps
        for p in news.values():
            self._members.update(p.members)
        self._cut(old_groups, members_before, olds, {g.id for g in changed})
        if gone:
            self._collect_sets(gone)

    def _wanted_sets(self, news: dict[str, Port]) -> dict:
        """The sets the batch's ports match, with their members where the
        ports give them: those that are not already so."""
        wanted: dict[str, tuple[str, ...] | None] = {}
        for p in news.values():
            for gid in p.group_ids():
                if wanted.get(gid) is None:
                    wanted[gid] = p.members.get(gid)
        have = set(self._members) | self._used_sets()
        return {
            gid: ips
            for gid, ips in wanted.items()
            if gid not in have
            or (ips is not None and self._members.get(gid) != ips)
        }

    def _cut(self, old_groups, members_before, olds, changed) -> None:
        """Cut the flows of every port whose allowance may have shrunk:
        the batch's (olds: their entries before it), those in a group
        whose rules changed, those matching a set that lost members."""
        shrunk = {
            gid
            for gid, now in self._members.items()
            if gid in members_before
            and not set(members_before[gid]) <= set(now)
        }
        memo: dict = {}

        def allowance(gids, table, members):
            # Members of the same groups share it (a batch: all of them).
            key = (id(table), id(members), gids)
            if key not in memo:
                chains = [table.get(gid) for gid in gids]
                memo[key] = (
                    None
                    if any(c is None or c.group is None for c in chains)
                    else frozenset().union(
                        *(group_allowance(c.group, members) for c in chains)
                    )
                )
            return memo[key]

        cuts = []
        for iid, e in sorted(self._entries.items()):
            in_batch = iid in olds
            sets = set(e.sets).union(
                *(
                    self._groups[g].sets
                    for g in e.group_ids
                    if g in self._groups
                )
            )
            if not (in_batch or set(e.group_ids) & changed or sets & shrunk):
                continue
            if e.sets:
                continue  # recovered rules of its own: its next apply cuts
            now = allowance(e.group_ids, self._groups, self._members)
            if now is None:
                continue  # a group of it unknown yet: its own apply cuts
            before = olds.get(iid) if in_batch else e
            if (
                before is None
                or not before.known
                or not (
                    (
                        was := allowance(
                            before.group_ids, old_groups, members_before
                        )
                    )
                    is not None
                    and was <= now
                )
            ):
                # A new port (its address may have been another guest's),
                # a recovered one, or one that lost a permission.
                cuts.append((e.port.ip, now))
        conntrack.cut_many(cuts, self.netns)

    # -- helpers ---------------------------------------------------------

    def _ensure_ready(self) -> None:
        # Rebuilding the dispatch chains from an empty cache would drop
        # the filtering of every port already there: load first.
        if not self._ready:
            self._load()

    def _load(self) -> None:
        """Recover the ports and group chains an earlier run applied,
        remove the group chains no port uses and the sets no chain
        matches, create the base chains and jumps that are missing, and
        rebuild layer 2 from what iptables holds."""
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
                port,
                tuple(p["groups"]),
                frozenset(p["sets"]),
                known=False,
                l2=l2,
            )
        groups, stale = self._without_unused(
            {
                gid: _GroupChain(None, frozenset(sets))
                for gid, sets in saved["groups"].items()
            },
            entries,
        )
        if stale:
            LOG.info("removing unused group chains: %s", ", ".join(stale))
        self._iptables(
            iptables.render_setup(
                saved["chains"],
                saved["forward_jump"],
                saved["input_jump"],
                stale_groups=stale,
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
        self._entries, self._groups, self._dispatch = entries, groups, None
        self._members = {}
        self._ready = True
        try:
            self._collect_sets(ipsets.existing(self.netns))
        except runner.CommandError as e:
            # A set something else still matches: left, never fatal.
            LOG.warning("could not remove unused sets: %s", e)

    @staticmethod
    def _without_unused(groups: dict, entries: dict) -> tuple[dict, list]:
        """(the group chains some port jumps to, the others' ids)."""
        used = set().union(*(e.group_ids for e in entries.values()))
        return (
            {g: c for g, c in groups.items() if g in used},
            sorted(g for g in groups if g not in used),
        )

    @staticmethod
    def _taps(entries: dict[str, _Entry]) -> dict[str, str]:
        return {
            iid: e.port.device for iid, e in entries.items() if e.port.device
        }

    def _used_sets(self) -> set[str]:
        return set().union(
            *(c.sets for c in self._groups.values()),
            *(e.sets for e in self._entries.values()),
        )

    def _collect_sets(self, candidates) -> None:
        """Destroy the sets among candidates that no chain matches now
        (after the restore that removed the last reference)."""
        unused = set(candidates) - self._used_sets()
        if unused:
            ipsets.destroy(unused, self.netns)
            for gid in unused:
                self._members.pop(gid, None)

    def _save(self, args: list[str]) -> str:
        return runner.run(args, netns=self.netns, timeout=TIMEOUT).stdout

    def _iptables(self, text: str, fallback: str = "", drop=()) -> bool:
        """One restore of text. drop: the group chains text removes; when
        the restore is refused, text without their removal (fallback) is
        tried once: another agent sharing the namespace may jump to a
        group chain of the same id, which then stays. Whether they were
        removed."""
        t0 = time.monotonic()
        try:
            runner.run(
                self._restore, input=text, netns=self.netns, timeout=TIMEOUT
            )
        except runner.CommandError as e:
            if not drop or "does not exist" in str(e):
                raise
            LOG.warning(
                "could not remove group chains %s (%s): leaving them",
                ", ".join(drop),
                e,
            )
            runner.run(
                self._restore,
                input=fallback,
                netns=self.netns,
                timeout=TIMEOUT,
            )
            self._timed(t0)
            return False
        self._timed(t0)
        return True

    def _timed(self, t0: float) -> None:
        self.last_restore_s = time.monotonic() - t0
        self.last_restore_end = time.time()

    def _ebtables(self, text: str) -> None:
        runner.run(
            ["ebtables-restore", "--noflush"],
            input=text,
            netns=self.netns,
            timeout=TIMEOUT,
        )
