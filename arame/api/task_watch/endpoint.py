"""The API process's end of topic `api_tasks`: each process runs a
server of its own, so every process hears every announced end."""

import uuid

import oslo_messaging as messaging

from arame.api.task_watch import rpcapi, waiters
from arame.common import rpc
from arame.common.conf import CONF


class TaskWatchEndpoint:
    target = messaging.Target(version="1.0")

    def __init__(self, registry: waiters.Waiters):
        self.registry = registry

    def task_ended(self, ctxt, task_id, status):
        self.registry.ended(task_id)


class TaskWatchComponent:
    """Started with the API: the fanout server, and the waiters' recheck
    stopped with it."""

    def __init__(self) -> None:
        self.registry = waiters.get()
        # One queue per process (a fanout queue each), never shared.
        server = f"{CONF.host}-{uuid.uuid4().hex[:8]}"
        self.server = rpc.get_server(
            rpcapi.TOPIC, server, [TaskWatchEndpoint(self.registry)]
        )

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.server.wait()
        self.registry.stop()
