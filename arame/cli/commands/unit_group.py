"""Unit groups: the units of one experiment, cleaned up as a whole."""

from __future__ import annotations

from arame.cli.columns import ListColumn
from arame.cli.commands.base import (
    Lister,
    ShowOne,
    TaskCommand,
    many,
    one,
    task_answer,
)

FIELDS = (
    "id",
    "name",
    "state",
    "units",
    "node_count",
    "account_id",
    "created_at",
    "updated_at",
)
LIST_FIELDS = ("id", "name", "state", "node_count", "created_at")
FORMATTERS = {"units": ListColumn}


class CreateUnitGroup(ShowOne):
    """Create a unit group."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name")
        return parser

    def take_action(self, parsed_args):
        group = self.app.client.unit_groups.create(parsed_args.name)
        return one(group, FIELDS, FORMATTERS)


class ListUnitGroup(Lister):
    """List unit groups."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "--name", metavar="PATTERN", help="name glob, e.g. 'handson*'"
        )
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.unit_groups.list(
            all=True, name=parsed_args.name
        )
        return many(items, LIST_FIELDS)


class ShowUnitGroup(ShowOne):
    """Show a unit group."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        group = self.app.client.unit_groups.get(parsed_args.id)
        return one(group, FIELDS, FORMATTERS)


class DeleteUnitGroup(TaskCommand):
    """Delete a unit group with every unit and node in it."""

    action = "delete"

    def take_action(self, parsed_args):
        groups = self.app.client.unit_groups
        nodes = None
        if parsed_args.wait:
            # What the progress counts: one event per node deleted.
            nodes = groups.get(parsed_args.id)["node_count"]
        answer = groups.delete(parsed_args.id)
        return task_answer(
            self.app, parsed_args, parsed_args.id, self.action, answer, nodes
        )
