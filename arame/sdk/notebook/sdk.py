"""ArameSDK: the VCP SDK's calls over the Arame API, for notebooks.

VCP's UnitGroup -> Unit -> Node model and method names, so a VCP notebook
moves over by changing its constructor, provider names and a few spec
fields (doc/source/user/notebooks.rst maps them).
"""

from __future__ import annotations

import getpass
import os
from typing import Any

import httpx

from arame import __version__
from arame.sdk.client import Client
from arame.sdk.errors import ArameError
from arame.sdk.notebook import frames, login
from arame.sdk.notebook.errors import AuthError
from arame.sdk.notebook.spec import Spec
from arame.sdk.notebook.sshkeys import PublicKey
from arame.sdk.notebook.ugroup import UnitGroup
from arame.sdk.notebook.unit import Unit
from arame.sdk.notebook.waits import Poller

_REFUSED = (401, 403)


class ArameSDK:
    """``ArameSDK()`` uses ARAME_URL and the login saved by ``arame login``
    (or ARAME_TOKEN); ``ArameSDK(token, endpoint)`` those given.

    A missing or refused token raises AuthError here, with the server's
    reason. ``progress=False`` turns the progress bars off;
    ``poll_interval`` is how often waits ask (seconds).
    """

    def __init__(
        self,
        token: str | None = None,
        endpoint: str | None = None,
        *,
        timeout: float = 30.0,
        progress: bool = True,
        poll_interval: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        found = login.find(token, endpoint)
        if not found.token:
            raise AuthError(
                None,
                "no_token",
                f"{found.source} for {found.endpoint}: pass "
                "ArameSDK(token=...), set ARAME_TOKEN, run `arame login "
                "--username NAME` in a terminal, or use "
                "ArameSDK.login(NAME)",
            )
        self.client = Client(
            found.endpoint,
            token=found.token,
            timeout=timeout,
            transport=transport,
        )
        self.poller = Poller(interval=poll_interval, progress=progress)
        self._check_token(found.source)

    @classmethod
    def login(
        cls,
        username: str,
        password: str | None = None,
        endpoint: str | None = None,
        **kw: Any,
    ) -> ArameSDK:
        """Log in with a password (ARAME_PASSWORD, else asked for without
        echo) instead of a saved token."""
        url = login.find(None, endpoint).endpoint
        password = (
            password
            or os.environ.get("ARAME_PASSWORD")
            or getpass.getpass(f"Password for {username} at {url}: ")
        )
        with Client(url, transport=kw.get("transport")) as client:
            try:
                body = client.login(username, password)
            except ArameError as exc:
                if exc.status_code in _REFUSED:
                    raise AuthError(
                        exc.status_code, exc.code, exc.message
                    ) from None
                raise
        return cls(body["token"], url, **kw)

    def _check_token(self, source: str) -> None:
        # GET /v1/version answers any authenticated caller: a refusal is
        # about the token, never about a role.
        try:
            self.client.version()
        except ArameError as exc:
            if exc.status_code not in _REFUSED:
                raise
            self.client.close()
            raise AuthError(
                exc.status_code,
                exc.code,
                f"{self.client.endpoint} refused {source}: {exc.message}",
                exc.details,
            ) from None

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"ArameSDK(endpoint={self.client.endpoint!r})"

    # -- the controller ----------------------------------------------------
    def version(self) -> dict[str, Any]:
        """This SDK's version and the controller's (GET /v1/version)."""
        server = self.client.version()
        return {
            "sdk": __version__,
            "server": server.get("version"),
            "api_version": server.get("api_version"),
            "endpoint": self.client.endpoint,
        }

    # -- unit groups -------------------------------------------------------
    def create_ugroup(self, name: str) -> UnitGroup:
        return UnitGroup(self, self.client.unit_groups.create(name))

    def get_ugroup(self, name: str) -> UnitGroup:
        """By name (or id): a group is never lost with its handle."""
        return UnitGroup(self, self.client.unit_groups.get(name))

    def find_ugroups(self) -> list[UnitGroup]:
        return [UnitGroup(self, g) for g in self._ugroups()]

    def df_ugroups(self) -> Any:
        return frames.frame(
            [frames.ugroup_row(g) for g in self._ugroups()],
            frames.UGROUP_COLUMNS,
        )

    def _ugroups(self) -> list[dict[str, Any]]:
        return self.client.unit_groups.list(all=True)

    # -- across groups -----------------------------------------------------
    def _units(self) -> list[dict[str, Any]]:
        return [
            u
            for g in self._ugroups()
            for u in self.client.units.list(g["id"], all=True)
        ]

    def df_units(self) -> Any:
        return frames.frame(
            [frames.unit_row(u) for u in self._units()], frames.UNIT_COLUMNS
        )

    def df_nodes(self) -> Any:
        rows = [r for u in self._units() for r in frames.node_rows(u)]
        return frames.frame(rows, frames.NODE_COLUMNS)

    def get_unit(self, name: str, ugroup: str | None = None) -> Unit:
        """A unit by id, or by name (unique across your groups, or within
        ``ugroup``)."""
        return Unit(self, self.client.units.get(name, unit_group=ugroup))

    # -- what units are made of --------------------------------------------
    def df_flavors(self, provider: str | None = None) -> Any:
        rows = [
            frames.flavor_row(f)
            for f in self.client.flavors.list(all=True)
            if provider is None or f.get("provider") == provider
        ]
        return frames.frame(rows, frames.FLAVOR_COLUMNS)

    def df_images(self) -> Any:
        rows = [frames.image_row(i) for i in self.client.images.list(all=True)]
        return frames.frame(rows, frames.IMAGE_COLUMNS)

    def get_spec(self, provider: str, flavor: str, **fields: Any) -> Spec:
        """A spec pre-filled from ``flavor``; set its fields, then give it
        to ``ugroup.create_unit``."""
        flavors = [
            f
            for f in self.client.flavors.list(all=True)
            if f.get("provider") == provider
        ]
        match = next((f for f in flavors if f["name"] == flavor), None)
        if match is None:
            known = ", ".join(f["name"] for f in flavors) or "none"
            raise ValueError(
                f"no flavor {flavor!r} for provider {provider!r} "
                f"(its flavors: {known}; see df_flavors({provider!r}))"
            )
        return Spec(
            provider,
            flavor,
            flavor_info=match,
            key_importer=self._key_pair_for,
            **fields,
        )

    def _key_pair_for(self, key: PublicKey) -> str:
        """The id of the key pair holding ``key``: an existing one with its
        fingerprint, else the key imported."""
        for attempt in range(2):
            for pair in self.client.key_pairs.list(all=True):
                if pair.get("fingerprint") == key.fingerprint:
                    return pair["id"]
            try:
                return self.client.key_pairs.create(
                    key.pair_name, public_key=key.line
                )["id"]
            except ArameError as exc:
                # Another notebook imported it meanwhile: look again.
                if exc.status_code != 409 or attempt:
                    raise
        raise AssertionError("unreachable")
