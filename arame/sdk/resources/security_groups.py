"""Security groups of the caller's account."""

from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class SecurityGroupManager(Manager):
    path = "/v1/security_groups"
    kind, prefix = "security group", "sg"

    def create(
        self,
        name: str,
        *,
        description: str | None = None,
        rules_text: str | None = None,
        rules: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Rules as Wakame text (``tcp:22,22,ip4:0.0.0.0/0`` per line) or
        as a list of dicts; not both."""
        body: dict[str, Any] = {"name": name}
        for key, value in (
            ("description", description),
            ("rules_text", rules_text),
            ("rules", rules),
        ):
            if value is not None:
                body[key] = value
        return self._session.post(self.path, json=body)

    def update(self, group: str, **fields: Any) -> dict[str, Any]:
        """Change name, description, rules_text or rules; the answer's
        ``task_id`` follows the rules onto the hosts."""
        body = {k: v for k, v in fields.items() if v is not None}
        return self._session.patch(
            self._item_path(self.resolve(group)), json=body
        )

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: name (glob), limit, marker."""
        return self._list(all=all, **filters)

    def get(self, group: str) -> dict[str, Any]:
        """``group``: an id or a name, here and above."""
        return self._get(self.resolve(group))

    def delete(self, group: str) -> None:
        self._session.delete(self._item_path(self.resolve(group)))
