"""Filter, weigh, choose: the pure part of placement (no database writes)."""

import dataclasses
import random

from stevedore import named

from arame.common.conf import CONF
from arame.scheduler.host_cache import HostCache
from arame.scheduler.host_state import HostState, RequestSpec


@dataclasses.dataclass
class Selection:
    candidates: list[HostState]  # best first
    rejected: dict[str, str]  # host -> reason

    def explain(self, limit: int = 5) -> str:
        """A one-line answer to "why no valid host?"."""
        if not self.rejected:
            return "no hosts are registered"
        by_reason: dict[str, list[str]] = {}
        for host, reason in self.rejected.items():
            by_reason.setdefault(reason.split(":")[0], []).append(host)
        parts = []
        for reason, hosts in sorted(
            by_reason.items(), key=lambda kv: -len(kv[1])
        ):
            sample = ", ".join(sorted(hosts)[:limit])
            more = (
                f" and {len(hosts) - limit} more" if len(hosts) > limit else ""
            )
            parts.append(
                f"{len(hosts)} host(s) rejected by {reason} ({sample}{more})"
            )
        return "; ".join(parts)


def _load(namespace: str, names: list[str]):
    mgr = named.NamedExtensionManager(
        namespace,
        names=names,
        invoke_on_load=True,
        name_order=True,
        on_missing_entrypoints_callback=_missing,
    )
    return [ext.obj for ext in mgr]


def _missing(names):
    raise RuntimeError(
        f"unknown scheduler plug-ins: {', '.join(sorted(names))}"
    )


class HostSelector:
    def __init__(self, filters=None, weighers=None):
        self.filters = (
            filters
            if filters is not None
            else _load(
                "arame.scheduler.filters", CONF.scheduler.enabled_filters
            )
        )
        self.weighers = (
            weighers
            if weighers is not None
            else _load(
                "arame.scheduler.weighers", CONF.scheduler.enabled_weighers
            )
        )
        # This process's view of every host (build.py keeps it current).
        self.cache = HostCache()

    def select(self, hosts: list[HostState], spec: RequestSpec) -> Selection:
        passing, rejected = [], {}
        for host in hosts:
            reason = self._reason(host, spec)
            if reason is None:
                passing.append(host)
            else:
                rejected[host.name] = reason
        return Selection(self._order(passing, spec), rejected)

    def select_from(self, cache: HostCache, spec: RequestSpec) -> Selection:
        """select() over every host of the cache (hold its lock). With
        one weigher that reads the host alone (the default, RAMWeigher),
        hosts are filtered best first only until enough pass for the
        random pick and the claim attempts: the same choice as weighing
        them all. `rejected` is then partial, but complete whenever no
        host passes (the only time it is explained)."""
        order = self._ranked(cache)
        if order is None:
            return self.select(list(cache.states.values()), spec)
        want = CONF.scheduler.host_subset_size + CONF.scheduler.claim_attempts
        passing, rejected = [], {}
        for host in order:
            reason = self._reason(host, spec)
            if reason is None:
                passing.append(host)
                if len(passing) >= want:
                    break
            else:
                rejected[host.name] = reason
        return Selection(self._shuffle_best(passing), rejected)

    def _ranked(self, cache: HostCache):
        if not self.weighers:
            return iter(list(cache.states.values()))
        if len(self.weighers) > 1 or not self.weighers[0].spec_independent:
            return None
        w = self.weighers[0]
        states = cache.states
        return (
            states[name] for name in cache.ranked(w).names(w.multiplier() >= 0)
        )

    def _reason(self, host: HostState, spec: RequestSpec) -> str | None:
        for f in self.filters:
            reason = f.reason_to_reject(host, spec)
            if reason is not None:
                return f"{type(f).__name__}: {reason}"
        return None

    def _order(
        self, hosts: list[HostState], spec: RequestSpec
    ) -> list[HostState]:
        if not hosts:
            return []
        scores = [0.0] * len(hosts)
        for w in self.weighers:
            raw = [w.weigh(h, spec) for h in hosts]
            lo, hi = min(raw), max(raw)
            span = (hi - lo) or 1.0
            m = w.multiplier()
            for i, r in enumerate(raw):
                scores[i] += m * (r - lo) / span
        ranked = [
            h
            for _, h in sorted(
                zip(scores, hosts, strict=True), key=lambda p: -p[0]
            )
        ]
        return self._shuffle_best(ranked)

    def _shuffle_best(self, ranked: list[HostState]) -> list[HostState]:
        # Shuffle the best few so that concurrent schedulers (and concurrent
        # flows in one scheduler) do not all race for the same host.
        k = min(CONF.scheduler.host_subset_size, len(ranked))
        head = ranked[:k]
        random.shuffle(head)
        return head + ranked[k:]
