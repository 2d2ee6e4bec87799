"""Client proxy of the API processes' task-end endpoint (topic
`api_tasks`, fanout: every API process hears every end)."""

from oslo_log import log

from arame.common import rpc

LOG = log.getLogger(__name__)

TOPIC = "api_tasks"


class TaskWatchAPI:
    """1.0 - task_ended"""

    VERSION_CAP = "1.0"

    def __init__(self) -> None:
        self.client = rpc.get_client(TOPIC, version_cap=self.VERSION_CAP)

    def task_ended(self, task_id: str, status: str) -> None:
        """Best effort: a lost cast only delays a waiter to its recheck."""
        try:
            self.client.prepare(fanout=True).cast(
                {}, "task_ended", task_id=task_id, status=status
            )
        except Exception:
            LOG.warning("could not announce the end of task %s", task_id)


def task_ended(task_id: str, status: str) -> None:
    # A client of the process's transport each time (cheap: no I/O), so a
    # transport made anew (tests, a reset) is never held stale.
    TaskWatchAPI().task_ended(task_id, status)
