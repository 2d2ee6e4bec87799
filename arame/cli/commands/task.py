from __future__ import annotations

from arame.cli.columns import EventsColumn, TaskErrorColumn
from arame.cli.commands.base import Lister, ShowOne, many, one

FIELDS = (
    "id",
    "status",
    "action",
    "resource_id",
    "error",
    "events",
    "created_at",
    "updated_at",
)
LIST_FIELDS = (
    "id",
    "action",
    "resource_id",
    "status",
    "created_at",
    "updated_at",
)
FORMATTERS = {"events": EventsColumn, "error": TaskErrorColumn}


class ShowTask(ShowOne):
    """Show a task with its events."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="ID")
        return parser

    def take_action(self, parsed_args):
        return one(
            self.app.client.tasks.get(parsed_args.id), FIELDS, FORMATTERS
        )


class ListTask(Lister):
    """List tasks, newest first."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "--resource-id", help="only tasks on this resource"
        )
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.tasks.list(
            resource_id=parsed_args.resource_id, all=True
        )
        return many(items, LIST_FIELDS)
