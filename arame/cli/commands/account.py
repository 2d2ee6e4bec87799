"""Accounts (admin): create, list, show, rename, enable/disable, delete."""

from __future__ import annotations

from arame.cli.commands.base import Command, Lister, ShowOne, many, one

FIELDS = ("id", "name", "enabled", "created_at", "updated_at")
LIST_FIELDS = ("id", "name", "enabled")


def _id_parser(parser):
    parser.add_argument("id", metavar="ACCOUNT_ID")
    return parser


class CreateAccount(ShowOne):
    """Create an account (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="NAME")
        return parser

    def take_action(self, parsed_args):
        return one(self.app.client.accounts.create(parsed_args.name), FIELDS)


class ListAccount(Lister):
    """List accounts (an admin sees all, others their own)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--name", metavar="PATTERN", help="name glob")
        parser.add_argument(
            "--sort",
            metavar="[-]FIELD",
            help="name, created_at or updated_at; `-` "
            "first for descending (--sort=-name)",
        )
        return parser

    def take_action(self, parsed_args):
        filters = {
            k: v
            for k, v in (
                ("name", parsed_args.name),
                ("sort", parsed_args.sort),
            )
            if v
        }
        return many(
            self.app.client.accounts.list(all=True, **filters), LIST_FIELDS
        )


class ShowAccount(ShowOne):
    """Show an account."""

    def get_parser(self, prog_name):
        return _id_parser(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        return one(self.app.client.accounts.get(parsed_args.id), FIELDS)


class SetAccount(ShowOne):
    """Rename an account (admin)."""

    def get_parser(self, prog_name):
        parser = _id_parser(super().get_parser(prog_name))
        parser.add_argument("--name", required=True)
        return parser

    def take_action(self, parsed_args):
        return one(
            self.app.client.accounts.update(
                parsed_args.id, name=parsed_args.name
            ),
            FIELDS,
        )


class DisableAccount(ShowOne):
    """Disable an account: its users' tokens stop working at once (admin)."""

    enabled = False

    def get_parser(self, prog_name):
        return _id_parser(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        return one(
            self.app.client.accounts.update(
                parsed_args.id, enabled=self.enabled
            ),
            FIELDS,
        )


class EnableAccount(DisableAccount):
    """Enable a disabled account again (admin)."""

    enabled = True


class DeleteAccount(Command):
    """Delete an account with no users and no live instances (admin)."""

    def get_parser(self, prog_name):
        return _id_parser(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        self.app.client.accounts.delete(parsed_args.id)
        return 0
