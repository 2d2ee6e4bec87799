"""Host weighers: each returns a raw weight; the selector normalises them to
0..1 across hosts and multiplies by the weigher's configured multiplier."""

import abc

from arame.scheduler.host_state import HostState, RequestSpec


class BaseWeigher(abc.ABC):
    # True when weigh() reads the host alone (never the spec): the host
    # cache can then keep every host ranked by it and a decision look at
    # the best few only, instead of weighing every host each time.
    spec_independent = False

    @abc.abstractmethod
    def weigh(self, host: HostState, spec: RequestSpec | None) -> float: ...

    def multiplier(self) -> float:
        return 1.0

    def rank_token(self) -> object:
        """What weigh() reads besides the host (options): when it changes
        the cache ranks every host again."""
        return None
