"""Accounts and users (admins manage them; members see their own)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from arame.sdk.resources.base import Manager


class AccountManager(Manager):
    path = "/v1/accounts"

    def create(self, name: str) -> dict[str, Any]:
        return self._session.post(self.path, json={"name": name})

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        return self._list(all=all, **filters)

    def get(self, account_id: str) -> dict[str, Any]:
        return self._get(account_id)

    def update(self, account_id: str, **fields: Any) -> dict[str, Any]:
        return self._session.patch(self._item_path(account_id), json=fields)

    def delete(self, account_id: str) -> None:
        self._session.delete(self._item_path(account_id))

    def _quota_path(self, account_id: str) -> str:
        return f"/v1/quotas/{quote(account_id, safe='')}"

    def get_quota(self, account_id: str) -> dict[str, Any]:
        """{"account_id", "limits": {...}, "in_use": {...}}."""
        return self._session.get(self._quota_path(account_id))

    def set_quota(
        self, account_id: str, **limits: int | None
    ) -> dict[str, Any]:
        """Change the limits named (admin): None returns one to the cloud's
        default, -1 is no limit; the others are kept."""
        return self._session.patch(self._quota_path(account_id), json=limits)


class UserManager(Manager):
    path = "/v1/users"

    def create(
        self,
        username: str,
        password: str,
        account_id: str,
        role: str = "member",
    ) -> dict[str, Any]:
        return self._session.post(
            self.path,
            json={
                "username": username,
                "password": password,
                "account_id": account_id,
                "role": role,
            },
        )

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        return self._list(all=all, **filters)

    def get(self, user_id: str) -> dict[str, Any]:
        return self._get(user_id)

    def update(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """password=, role=, enabled=; any change revokes the user's tokens."""
        return self._session.patch(self._item_path(user_id), json=fields)

    def delete(self, user_id: str) -> None:
        self._session.delete(self._item_path(user_id))
