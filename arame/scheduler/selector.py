"""Filter, weigh, choose: the pure part of placement (no database writes)."""

import dataclasses
import random

from stevedore import named

from arame.common.conf import CONF
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

    def select(self, hosts: list[HostState], spec: RequestSpec) -> Selection:
        passing, rejected = [], {}
        for host in hosts:
            for f in self.filters:
                reason = f.reason_to_reject(host, spec)
                if reason is not None:
                    rejected[host.name] = f"{type(f).__name__}: {reason}"
                    break
            else:
                passing.append(host)
        return Selection(self._order(passing, spec), rejected)

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
        # Shuffle the best few so that concurrent schedulers (and concurrent
        # flows in one scheduler) do not all race for the same host.
        k = min(CONF.scheduler.host_subset_size, len(ranked))
        head = ranked[:k]
        random.shuffle(head)
        return head + ranked[k:]
