"""What every service whose writes end in a cast to the scheduler shares."""

from arame.scheduler import rpcapi as scheduler_rpcapi


class SchedulerCaster:
    """The scheduler's client, made on first use (a process that only
    reads never opens it; tests pass their own)."""

    def __init__(self, scheduler=None):
        self._scheduler = scheduler

    @property
    def scheduler(self):
        if self._scheduler is None:
            self._scheduler = scheduler_rpcapi.SchedulerAPI()
        return self._scheduler
