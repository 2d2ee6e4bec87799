"""The cliff application: global options and the lazily built SDK client."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TextIO

from cliff.app import App
from cliff.commandmanager import CommandManager

from arame.cli import credentials, registry
from arame.cli.commands.version import client_version
from arame.cli.connection import DEFAULT_URL, Connection, resolve
from arame.sdk import Client

ClientFactory = Callable[[str, "str | None"], Client]


class ArameApp(App):
    NAME = "arame"
    LOG = logging.getLogger(NAME)

    def __init__(
        self,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        client_factory: ClientFactory = Client,
        command_manager: CommandManager | None = None,
    ) -> None:
        """``client_factory(url, token)`` builds the SDK client; tests pass
        one that talks to an ``httpx.MockTransport``."""
        super().__init__(
            description="Command line for the Arame cloud.",
            version=client_version(),
            command_manager=command_manager
            or registry.build_command_manager(),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            deferred_help=True,
        )
        self._client_factory = client_factory
        self._client: Client | None = None

    def build_option_parser(self, description, version, argparse_kwargs=None):
        parser = super().build_option_parser(
            description, version, argparse_kwargs
        )
        parser.add_argument(
            "--url",
            metavar="URL",
            help="API endpoint (env ARAME_URL; default: the one you logged in to, "
            f"else {DEFAULT_URL})",
        )
        parser.add_argument(
            "--token",
            metavar="TOKEN",
            help="API token (env ARAME_TOKEN; default: the one from 'arame login')",
        )
        return parser

    def configure_logging(self) -> None:
        super().configure_logging()
        # httpx logs every request at INFO, which cliff's default verbosity
        # would print on each run; keep it for -vv and --debug.
        if self.options.verbose_level < 2 and not self.options.debug:
            for name in ("httpx", "httpcore"):
                logging.getLogger(name).setLevel(logging.WARNING)

    @property
    def connection(self) -> Connection:
        return resolve(
            self.options.url,
            self.options.token,
            os.environ,
            credentials.load(),
        )

    @property
    def client(self) -> Client:
        if self._client is None:
            conn = self.connection
            self._client = self._client_factory(conn.url, conn.token)
        return self._client

    def clean_up(self, cmd, result, err) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
