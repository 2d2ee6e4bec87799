from __future__ import annotations

from arame.cli.columns import RulesColumn
from arame.cli.commands.base import (
    Command,
    Lister,
    ShowOne,
    add_wait_options,
    many,
    one,
    text_file,
    wait_for_task,
)

FIELDS = (
    "id",
    "name",
    "description",
    "rules",
    "account_id",
    "created_at",
    "updated_at",
    "task_id",
)
LIST_FIELDS = ("id", "name", "description")
FORMATTERS = {"rules": RulesColumn}


def _add_rule_options(parser) -> None:
    rules = parser.add_mutually_exclusive_group()
    rules.add_argument(
        "--rules-file",
        type=text_file,
        metavar="FILE",
        help="rules as text, one per line "
        "(tcp:22,22,ip4:0.0.0.0/0; # starts a comment)",
    )
    rules.add_argument(
        "--rule",
        action="append",
        dest="rules",
        metavar="RULE",
        help="one rule as text (repeatable)",
    )


def _rules_text(parsed_args) -> str | None:
    if parsed_args.rules_file is not None:
        return parsed_args.rules_file
    if parsed_args.rules:
        return "".join(r + "\n" for r in parsed_args.rules)
    return None


class CreateSecurityGroup(ShowOne):
    """Create a security group."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="NAME")
        parser.add_argument("--description")
        _add_rule_options(parser)
        return parser

    def take_action(self, parsed_args):
        group = self.app.client.security_groups.create(
            parsed_args.name,
            description=parsed_args.description,
            rules_text=_rules_text(parsed_args),
        )
        return one(group, FIELDS, FORMATTERS)


class UpdateSecurityGroup(ShowOne):
    """Change a security group; new rules are applied on every host with a
    member (--wait to follow)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        parser.add_argument("--name")
        parser.add_argument("--description")
        _add_rule_options(parser)
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        group = self.app.client.security_groups.update(
            parsed_args.id,
            name=parsed_args.name,
            description=parsed_args.description,
            rules_text=_rules_text(parsed_args),
        )
        if parsed_args.wait:
            wait_for_task(self.app, group["task_id"], parsed_args.wait_timeout)
        return one(group, FIELDS, FORMATTERS)


class ListSecurityGroup(Lister):
    """List security groups."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--name", metavar="PATTERN", help="name glob")
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.security_groups.list(
            all=True, name=parsed_args.name
        )
        return many(items, LIST_FIELDS)


class ShowSecurityGroup(ShowOne):
    """Show a security group and its rules."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        return one(
            self.app.client.security_groups.get(parsed_args.id),
            FIELDS,
            FORMATTERS,
        )


class DeleteSecurityGroup(Command):
    """Delete a security group no live instance or other group uses."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        self.app.client.security_groups.delete(parsed_args.id)
        return 0
