from __future__ import annotations

from arame.cli.commands.base import Lister, many

LIST_FIELDS = ("id", "name", "format", "status", "visibility")


class ListImage(Lister):
    """List images visible to you."""

    def take_action(self, parsed_args):
        return many(self.app.client.images.list(all=True), LIST_FIELDS)
