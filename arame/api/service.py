"""The arame-api daemon: uvicorn serving the app, its heartbeat, and its
ends of the bus: the tasks' ends (long polls) and the users' changes (the
user cache)."""

import threading

import uvicorn

from arame.api.app import create_app
from arame.api.auth.events import AuthEventsComponent
from arame.api.task_watch.endpoint import TaskWatchComponent
from arame.common.conf import CONF
from arame.common.db.services import DBHeartbeat

BINARY = "arame-api"


class UvicornComponent:
    def __init__(self, app, host: str, port: int):
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=30,
        )
        self.server = uvicorn.Server(config)
        self._thread = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.run, name="uvicorn", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        # Uvicorn stops accepting, lets in-flight requests finish, then exits.
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=35)

    @property
    def started(self) -> bool:
        return self.server.started


def build_components() -> list:
    return [
        TaskWatchComponent(),
        AuthEventsComponent(),
        UvicornComponent(create_app(), CONF.api.host, CONF.api.port),
        DBHeartbeat(BINARY, "api"),
    ]
