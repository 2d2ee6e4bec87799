from __future__ import annotations

import getpass
import os

from arame.cli import credentials
from arame.cli.commands.base import ShowOne, one


class Login(ShowOne):
    """Log in and keep the token for later commands."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--password",
            help="default: env ARAME_PASSWORD, else asked for without echo",
        )
        return parser

    def take_action(self, parsed_args):
        password = (
            parsed_args.password
            or os.environ.get("ARAME_PASSWORD")
            or getpass.getpass(f"Password for {parsed_args.username}: ")
        )
        client = self.app.client
        body = client.login(parsed_args.username, password)
        saved_to = credentials.save(
            {
                "url": client.endpoint,
                "token": body["token"],
                "expires_at": body.get("expires_at"),
            }
        )
        user = body.get("user") or {}
        # The token itself is not printed: it is in the credentials file.
        return one(
            {
                "url": client.endpoint,
                "username": user.get("username", parsed_args.username),
                "user_id": user.get("id"),
                "account_id": body.get("account_id"),
                "roles": body.get("roles"),
                "expires_at": body.get("expires_at"),
                "credentials_file": str(saved_to),
            },
            (),
        )
