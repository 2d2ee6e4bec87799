"""Telling every API process that a user's tokens changed (topic
`api_auth`, fanout), so each drops what its user cache holds.

The process that makes the change invalidates its own cache at the
commit, before the client hears the answer; the others within a message's
delivery. A lost message (a broker node dying) leaves another process's
entry for at most [auth] user_cache_seconds."""

import uuid

import oslo_messaging as messaging
from oslo_log import log

from arame.api.auth.user_cache import CACHE
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.db import engine as db_engine

LOG = log.getLogger(__name__)

TOPIC = "api_auth"


class AuthEventsAPI:
    """1.0 - user_changed, account_changed"""

    VERSION_CAP = "1.0"

    def __init__(self) -> None:
        self.client = rpc.get_client(TOPIC, version_cap=self.VERSION_CAP)

    def cast(self, method: str, **kw) -> None:
        try:
            self.client.prepare(fanout=True).cast({}, method, **kw)
        except Exception:
            LOG.warning(
                "could not announce %s %s to the API processes", method, kw
            )


def user_changed(session, user_id: str) -> None:
    """Once `session` commits: `user_id`'s cached rows go, here and in
    every API process."""

    def after():
        CACHE.invalidate_user(user_id)
        AuthEventsAPI().cast("user_changed", user_id=user_id)

    db_engine.on_commit(session, after)


def account_changed(session, account_id: str) -> None:
    def after():
        CACHE.invalidate_account(account_id)
        AuthEventsAPI().cast("account_changed", account_id=account_id)

    db_engine.on_commit(session, after)


class AuthEventsEndpoint:
    target = messaging.Target(version="1.0")

    def user_changed(self, ctxt, user_id):
        CACHE.invalidate_user(user_id)

    def account_changed(self, ctxt, account_id):
        CACHE.invalidate_account(account_id)


class AuthEventsComponent:
    """The API process's fanout server of `api_auth`."""

    def __init__(self) -> None:
        server = f"{CONF.host}-{uuid.uuid4().hex[:8]}"
        self.server = rpc.get_server(TOPIC, server, [AuthEventsEndpoint()])

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.server.wait()
