"""What every resource manager shares: a collection path, get and paged
list, and finding a resource by its name where an id is taken."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from arame.sdk.errors import AmbiguousName, ArameError, NotFound
from arame.sdk.session import Session

# kind -> (module, class) of its manager, for a manager that refers to
# another kind (an instance's image, a volume's instance); imported when
# needed since the managers refer to each other both ways.
_MANAGERS = {
    "image": ("images", "ImageManager"),
    "instance": ("instances", "InstanceManager"),
    "key_pair": ("key_pairs", "KeyPairManager"),
    "network": ("networks", "NetworkManager"),
    "security_group": ("security_groups", "SecurityGroupManager"),
    "snapshot": ("snapshots", "SnapshotManager"),
    "volume": ("volumes", "VolumeManager"),
}


class Manager:
    #: Collection path, e.g. ``/v1/instances``.
    path: str
    #: What errors call one ("security group").
    kind: str = "resource"
    #: Its id prefix (``img``): a value shaped ``img-xxxxxxxx`` is an id,
    #: anything else a name to look up. None: the API itself takes names.
    prefix: str | None = None

    def __init__(self, session: Session) -> None:
        self._session = session

    def _item_path(self, resource_id: str, *suffix: str) -> str:
        # Quoting keeps an ID like "../hosts" from walking to another route.
        return "/".join([self.path, quote(resource_id, safe=""), *suffix])

    def _get(self, resource_id: str) -> dict[str, Any]:
        try:
            return self._session.get(self._item_path(resource_id))
        except ArameError as exc:
            if exc.status_code == 404 and not isinstance(exc, NotFound):
                raise NotFound(exc.message, exc.code, exc.details) from None
            raise

    def _list(
        self,
        *,
        all: bool = False,
        limit: int | None = None,
        marker: str | None = None,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """One page of the collection, or every page when ``all`` is true."""
        items: list[dict[str, Any]] = []
        while True:
            page = self._session.get(
                self.path, params={"limit": limit, "marker": marker, **filters}
            )
            items.extend(page.get("items", []))
            marker = page.get("next_marker")
            if not all or not marker:
                return items

    # -- names ---------------------------------------------------------------
    def is_id(self, value: str) -> bool:
        """Whether ``value`` has the shape of this kind's ids."""
        return self.prefix is not None and bool(
            re.fullmatch(rf"{self.prefix}-[a-z0-9]{{8}}", value)
        )

    def find(self, name_or_id: str) -> dict[str, Any]:
        """The one resource this id or name stands for, among those the
        caller can see. Raises NotFound, or AmbiguousName (with the
        candidates' ids) when several share the name."""
        if self.prefix is None or self.is_id(name_or_id):
            return self._get(name_or_id)
        # The API's `name=` is a glob compared as the database collates
        # (MariaDB: case-insensitively): only the exact name counts.
        found = [
            item
            for item in self._list(all=True, name=name_or_id)
            if item.get("name") == name_or_id
        ]
        if not found:
            raise NotFound(f"no {self.kind} named {name_or_id!r}")
        if len(found) > 1:
            raise AmbiguousName(
                self.kind, name_or_id, [str(i["id"]) for i in found]
            )
        return found[0]

    def resolve(self, name_or_id: str) -> str:
        """The id of the resource a name or id stands for: an id as it is
        (no request), a name looked up with find()."""
        if self.prefix is None or self.is_id(name_or_id):
            return name_or_id
        return str(self.find(name_or_id)["id"])

    def _ref(self, kind: str, name_or_id: str | None) -> str | None:
        """The id of a resource of another kind named in a request (an
        instance's image); None stays None."""
        if name_or_id is None:
            return None
        module, cls = _MANAGERS[kind]
        manager = getattr(
            importlib.import_module(f"arame.sdk.resources.{module}"), cls
        )
        return manager(self._session).resolve(name_or_id)

    def _refs(
        self, kind: str, names_or_ids: Iterable[str] | None
    ) -> list[str] | None:
        if names_or_ids is None:
            return None
        return [str(self._ref(kind, v)) for v in names_or_ids]
