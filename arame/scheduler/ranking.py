"""Every host ranked by one weigher's raw weight, kept sorted host by host
as the host cache changes: a decision reads the best few instead of
weighing and sorting every host (10,000 of them cost ~0.4 s in Python)."""

import bisect

from arame.scheduler.host_state import HostState


class Ranking:
    def __init__(self, weigher, token, states: dict[str, HostState]):
        self.weigher = weigher
        # Compared by the cache: a new weigher or option value re-ranks.
        self.token = token
        self._weights = {
            name: weigher.weigh(h, None) for name, h in states.items()
        }
        self._sorted = sorted((w, n) for n, w in self._weights.items())

    def update(self, name: str, state: HostState | None) -> None:
        """The host changed (None: it is gone)."""
        old = self._weights.pop(name, None)
        if old is not None:
            del self._sorted[bisect.bisect_left(self._sorted, (old, name))]
        if state is not None:
            w = self.weigher.weigh(state, None)
            self._weights[name] = w
            bisect.insort(self._sorted, (w, name))

    def names(self, highest_first: bool):
        """Host names, best first (highest weight when the multiplier is
        positive)."""
        seq = reversed(self._sorted) if highest_first else self._sorted
        for _, name in seq:
            yield name
