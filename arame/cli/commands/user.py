"""Users: create, list, show, enable/disable, change role, reset password,
delete. Passwords are never taken from the command line unless given
with --password (visible to other local users): ARAME_NEW_PASSWORD, else
asked twice without echo."""

from __future__ import annotations

import getpass
import os

from arame.cli.commands.base import Command, Lister, ShowOne, many, one

FIELDS = (
    "id",
    "username",
    "account_id",
    "role",
    "enabled",
    "created_at",
    "updated_at",
)
LIST_FIELDS = ("id", "username", "account_id", "role", "enabled")
ROLES = ("admin", "member", "reader")


class PasswordMismatch(ValueError):
    pass


def _id_parser(parser):
    parser.add_argument("id", metavar="USER_ID")
    return parser


def _password_option(parser):
    parser.add_argument(
        "--password",
        help="default: env ARAME_NEW_PASSWORD, else asked "
        "for twice without echo",
    )
    return parser


def new_password(parsed_args, who: str) -> str:
    given = parsed_args.password or os.environ.get("ARAME_NEW_PASSWORD")
    if given:
        return given
    first = getpass.getpass(f"New password for {who}: ")
    if getpass.getpass("Again: ") != first:
        raise PasswordMismatch("the two passwords differ")
    return first


class CreateUser(ShowOne):
    """Create a user in an account (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("username", metavar="USERNAME")
        parser.add_argument("--account", required=True, metavar="ACCOUNT_ID")
        parser.add_argument("--role", choices=ROLES, default="member")
        return _password_option(parser)

    def take_action(self, parsed_args):
        a = parsed_args
        user = self.app.client.users.create(
            a.username, new_password(a, a.username), a.account, role=a.role
        )
        return one(user, FIELDS)


class ListUser(Lister):
    """List users (an admin sees all, others their account's)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--account", metavar="ACCOUNT_ID")
        parser.add_argument("--name", metavar="PATTERN", help="username glob")
        parser.add_argument(
            "--sort",
            metavar="[-]FIELD",
            help="name, role, created_at or updated_at; "
            "`-` first for descending (--sort=-name)",
        )
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        filters = {
            k: v
            for k, v in (
                ("account_id", a.account),
                ("name", a.name),
                ("sort", a.sort),
            )
            if v
        }
        return many(
            self.app.client.users.list(all=True, **filters), LIST_FIELDS
        )


class ShowUser(ShowOne):
    """Show a user."""

    def get_parser(self, prog_name):
        return _id_parser(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        return one(self.app.client.users.get(parsed_args.id), FIELDS)


class SetUser(ShowOne):
    """Change a user's role (admin); their tokens stop working."""

    def get_parser(self, prog_name):
        parser = _id_parser(super().get_parser(prog_name))
        parser.add_argument("--role", choices=ROLES, required=True)
        return parser

    def take_action(self, parsed_args):
        return one(
            self.app.client.users.update(
                parsed_args.id, role=parsed_args.role
            ),
            FIELDS,
        )


class DisableUser(ShowOne):
    """Disable a user: their tokens stop working at once (admin)."""

    enabled = False

    def get_parser(self, prog_name):
        return _id_parser(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        return one(
            self.app.client.users.update(parsed_args.id, enabled=self.enabled),
            FIELDS,
        )


class EnableUser(DisableUser):
    """Enable a disabled user again (admin)."""

    enabled = True


class ResetUserPassword(ShowOne):
    """Set a user's password (an admin for anyone, a user for themself);
    the user's earlier tokens stop working."""

    def get_parser(self, prog_name):
        return _password_option(_id_parser(super().get_parser(prog_name)))

    def take_action(self, parsed_args):
        password = new_password(parsed_args, parsed_args.id)
        return one(
            self.app.client.users.update(parsed_args.id, password=password),
            FIELDS,
        )


class DeleteUser(Command):
    """Delete a user (admin)."""

    def get_parser(self, prog_name):
        return _id_parser(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        self.app.client.users.delete(parsed_args.id)
        return 0
