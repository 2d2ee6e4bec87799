"""Host filters: each a tiny class; `reason_to_reject` answers None when the
host may take the request, or the reason it may not (kept so that "no valid
host" explains itself).

A new filter subclasses BaseFilter, is registered under the entry point
group `arame.scheduler.filters` (setup.cfg) and enabled by its name in
[scheduler] enabled_filters."""

import abc

from arame.scheduler.host_state import HostState, RequestSpec


class BaseFilter(abc.ABC):
    @abc.abstractmethod
    def reason_to_reject(
        self, host: HostState, spec: RequestSpec
    ) -> str | None:
        """None if the host may take the request, else why it may not (a
        short phrase; the selector prefixes the filter's name)."""
