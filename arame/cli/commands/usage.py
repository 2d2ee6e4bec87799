from __future__ import annotations

from arame.cli.commands.base import Lister, many

LIST_FIELDS = (
    "id",
    "at",
    "event",
    "resource_id",
    "resource_type",
    "flavor",
    "vcpus",
    "memory_mb",
    "account_id",
)


class ListUsage(Lister):
    """List usage records (one open and one close per resource lifetime)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--account-id", help="another account (admin)")
        parser.add_argument("--start", help="from this time (ISO 8601)")
        parser.add_argument("--end", help="before this time (ISO 8601)")
        parser.add_argument(
            "--marker", type=int, help="after this record id (read forward)"
        )
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.usage.list(
            all=True,
            account_id=parsed_args.account_id,
            start=parsed_args.start,
            end=parsed_args.end,
            marker=parsed_args.marker,
        )
        return many(items, LIST_FIELDS)
