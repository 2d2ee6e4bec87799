"""Host weighers: each returns a raw weight; the selector normalises them to
0..1 across hosts and multiplies by the weigher's configured multiplier."""

import abc

from arame.scheduler.host_state import HostState, RequestSpec


class BaseWeigher(abc.ABC):
    @abc.abstractmethod
    def weigh(self, host: HostState, spec: RequestSpec) -> float: ...

    def multiplier(self) -> float:
        return 1.0
