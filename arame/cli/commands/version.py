"""What runs at each end: this CLI and the API it talks to."""

from __future__ import annotations

import importlib.metadata

from arame.cli.columns import ListColumn
from arame.cli.commands.base import ShowOne, one

FIELDS = ("client_version", "api_version", "version", "build", "features")


def client_version() -> str:
    try:
        return importlib.metadata.version("arame")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class ShowVersion(ShowOne):
    """Show the versions of this CLI and of the API (with its features)."""

    def take_action(self, parsed_args):
        server = self.app.client.version()
        return one(
            {"client_version": client_version(), **server},
            FIELDS,
            {"features": ListColumn},
        )
