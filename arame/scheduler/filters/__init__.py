"""Host filters: each a tiny class; `host_passes` answers None when the host
may take the request, or the reason it may not (kept so that "no valid host"
explains itself)."""

import abc

from arame.scheduler.host_state import HostState, RequestSpec


class BaseFilter(abc.ABC):
    @abc.abstractmethod
    def host_passes(self, host: HostState, spec: RequestSpec) -> str | None:
        """None if the host passes, else the reason it is rejected."""
