from __future__ import annotations

from arame.cli.commands.base import (
    Lister,
    ShowOne,
    TaskCommand,
    add_wait_options,
    many,
    one,
    show_after_wait,
)

FIELDS = (
    "id",
    "name",
    "status",
    "status_reason",
    "volume_id",
    "size_gb",
    "storage_node",
    "account_id",
    "created_at",
    "updated_at",
    "deleted_at",
    "task_id",
)
LIST_FIELDS = ("id", "name", "status", "volume_id", "size_gb", "storage_node")


class CreateSnapshot(ShowOne):
    """Take a snapshot of a volume."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name")
        parser.add_argument(
            "--volume",
            required=True,
            dest="volume_id",
            metavar="NAME_OR_ID",
            help="volume name or ID",
        )
        parser.add_argument(
            "--idempotency-key",
            help="repeat a create safely: the same key within 24 h creates once",
        )
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        snapshots = self.app.client.snapshots
        snap = snapshots.create(
            a.name, a.volume_id, idempotency_key=a.idempotency_key
        )
        return one(show_after_wait(self.app, snapshots, snap, a), FIELDS)


class ListSnapshot(Lister):
    """List snapshots."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "--volume",
            dest="volume_id",
            metavar="NAME_OR_ID",
            help="only snapshots of this volume (name or ID)",
        )
        parser.add_argument(
            "--status", help="only snapshots in this status ('deleted' too)"
        )
        parser.add_argument("--name", metavar="PATTERN", help="name glob")
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        client = self.app.client
        volume_id = a.volume_id and client.volumes.resolve(a.volume_id)
        items = client.snapshots.list(
            all=True, volume_id=volume_id, status=a.status, name=a.name
        )
        return many(items, LIST_FIELDS)


class ShowSnapshot(ShowOne):
    """Show a snapshot."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        return one(self.app.client.snapshots.get(parsed_args.id), FIELDS)


class DeleteSnapshot(TaskCommand):
    """Delete a snapshot no volume was made from."""

    action = "delete"

    def request(self, snapshot_id: str) -> dict:
        return self.app.client.snapshots.delete(snapshot_id)
