from __future__ import annotations

from arame.cli.commands.base import Lister, many

LIST_FIELDS = ("name", "provider", "vcpus", "memory_mb", "disk_gb")


class ListFlavor(Lister):
    """List flavors."""

    def take_action(self, parsed_args):
        return many(self.app.client.flavors.list(all=True), LIST_FIELDS)
