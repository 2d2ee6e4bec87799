"""Networks: the caller's own and the shared ones."""

from __future__ import annotations

from typing import Any

from arame.sdk.resources.base import Manager


class NetworkManager(Manager):
    path = "/v1/networks"
    kind, prefix = "network", "nw"

    def create(
        self,
        name: str,
        cidr: str,
        dns_domain: str,
        segmentation: str = "vxlan",
        **fields: Any,
    ) -> dict[str, Any]:
        """``fields``: gateway, dhcp_ranges ([[first, last], ...]),
        segment_id, shared, mtu; those left as None are not sent."""
        body = {
            "name": name,
            "cidr": cidr,
            "dns_domain": dns_domain,
            "segmentation": segmentation,
        }
        body.update({k: v for k, v in fields.items() if v is not None})
        return self._session.post(self.path, json=body)

    def list(
        self, *, all: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Filters: name (glob), limit, marker."""
        return self._list(all=all, **filters)

    def get(self, network: str) -> dict[str, Any]:
        """``network``: an id or a name."""
        return self._get(self.resolve(network))

    def delete(self, network: str) -> None:
        self._session.delete(self._item_path(self.resolve(network)))
