"""The SDK's entry point: one object holding the session and the managers."""

from __future__ import annotations

from typing import Any

import httpx

from arame.sdk.resources.baremetal import BaremetalNodeManager
from arame.sdk.resources.flavors import FlavorManager
from arame.sdk.resources.hosts import HostManager
from arame.sdk.resources.identity import AccountManager, UserManager
from arame.sdk.resources.images import ImageManager
from arame.sdk.resources.instances import InstanceManager
from arame.sdk.resources.key_pairs import KeyPairManager
from arame.sdk.resources.networks import NetworkManager
from arame.sdk.resources.routing import FloatingIPManager, RouterManager
from arame.sdk.resources.security_groups import SecurityGroupManager
from arame.sdk.resources.snapshots import SnapshotManager
from arame.sdk.resources.tasks import TaskManager
from arame.sdk.resources.units import UnitGroupManager, UnitManager
from arame.sdk.resources.usage import UsageManager
from arame.sdk.resources.volumes import VolumeManager
from arame.sdk.session import Session


class Client:
    """A connection to one Arame API endpoint.

    ``transport`` is handed to httpx, so tests (and embedders) can pass an
    ``httpx.MockTransport`` or a WSGI/ASGI transport instead of the network.
    """

    def __init__(
        self,
        endpoint: str,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._session = Session(
            endpoint, token=token, timeout=timeout, transport=transport
        )
        self.instances = InstanceManager(self._session)
        self.tasks = TaskManager(self._session)
        self.hosts = HostManager(self._session)
        self.flavors = FlavorManager(self._session)
        self.images = ImageManager(self._session)
        self.accounts = AccountManager(self._session)
        self.users = UserManager(self._session)
        self.key_pairs = KeyPairManager(self._session)
        self.networks = NetworkManager(self._session)
        self.security_groups = SecurityGroupManager(self._session)
        self.baremetal_nodes = BaremetalNodeManager(self._session)
        self.usage = UsageManager(self._session)
        self.volumes = VolumeManager(self._session)
        self.snapshots = SnapshotManager(self._session)
        self.unit_groups = UnitGroupManager(self._session)
        self.units = UnitManager(self._session)
        self.routers = RouterManager(self._session)
        self.floating_ips = FloatingIPManager(self._session)

    @property
    def endpoint(self) -> str:
        return self._session.endpoint

    @property
    def token(self) -> str | None:
        return self._session.token

    @token.setter
    def token(self, value: str | None) -> None:
        self._session.token = value

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Get a token for these credentials and use it from now on.

        Returns the whole answer (token, expires_at, user, account_id, roles).
        """
        # A stale token must not decide how the login itself is judged.
        body = self._session.post(
            "/v1/auth/tokens",
            json={"username": username, "password": password},
            authenticated=False,
        )
        self._session.token = body["token"]
        return body

    def version(self) -> dict[str, Any]:
        """The API's ``{"api_version", "version", "build", "features"}``."""
        return self._session.get("/v1/version")

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
