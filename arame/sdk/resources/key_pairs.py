"""SSH key pairs of the caller's account."""

from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class KeyPairManager(Manager):
    path = "/v1/key_pairs"
    kind, prefix = "key pair", "kp"

    def create(
        self, name: str, public_key: str | None = None, type: str = "ed25519"
    ) -> dict[str, Any]:
        """Import `public_key`, or generate a pair: the answer's
        `private_key` is then the only copy there will ever be."""
        body: dict[str, Any] = {"name": name}
        if public_key is not None:
            body["public_key"] = public_key
        else:
            body["type"] = type
        return self._session.post(self.path, json=body)

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        return self._list(all=all, **filters)

    def get(self, key_pair: str) -> dict[str, Any]:
        """``key_pair``: an id or a name."""
        return self._get(self.resolve(key_pair))

    def delete(self, key_pair: str) -> None:
        self._session.delete(self._item_path(self.resolve(key_pair)))
