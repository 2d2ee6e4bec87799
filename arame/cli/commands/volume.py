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
    "size_gb",
    "image",
    "snapshot",
    "storage_node",
    "instance_id",
    "device",
    "root_of",
    "account_id",
    "created_at",
    "updated_at",
    "deleted_at",
    "task_id",
)
LIST_FIELDS = (
    "id",
    "name",
    "status",
    "size_gb",
    "storage_node",
    "instance_id",
    "root_of",
)


class CreateVolume(ShowOne):
    """Create a volume: empty, from a raw image or from a snapshot."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name")
        parser.add_argument(
            "--size",
            type=int,
            dest="size_gb",
            metavar="GiB",
            help="size in GiB (default from an image or snapshot: theirs)",
        )
        origin = parser.add_mutually_exclusive_group()
        origin.add_argument(
            "--image", metavar="NAME_OR_ID", help="raw image to copy"
        )
        origin.add_argument(
            "--snapshot", metavar="NAME_OR_ID", help="snapshot to clone"
        )
        parser.add_argument(
            "--idempotency-key",
            help="repeat a create safely: the same key within 24 h creates once",
        )
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        volumes = self.app.client.volumes
        volume = volumes.create(
            a.name,
            a.size_gb,
            image=a.image,
            snapshot=a.snapshot,
            idempotency_key=a.idempotency_key,
        )
        return one(show_after_wait(self.app, volumes, volume, a), FIELDS)


class ListVolume(Lister):
    """List volumes (root volumes of instances included)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "--status", help="only volumes in this status ('deleted' too)"
        )
        parser.add_argument(
            "--name", metavar="PATTERN", help="name glob, e.g. 'data*'"
        )
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.volumes.list(
            all=True, status=parsed_args.status, name=parsed_args.name
        )
        return many(items, LIST_FIELDS)


class ShowVolume(ShowOne):
    """Show a volume."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        return one(self.app.client.volumes.get(parsed_args.id), FIELDS)


class DeleteVolume(TaskCommand):
    """Delete a volume (not attached, not a root volume, without snapshots)."""

    action = "delete"

    def request(self, volume_id: str) -> dict:
        return self.app.client.volumes.delete(volume_id)


class AttachVolume(TaskCommand):
    """Attach an available volume to a running or stopped instance."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "instance", metavar="INSTANCE", help="instance name or ID"
        )
        return parser

    def take_action(self, parsed_args):
        volumes = self.app.client.volumes
        answer = volumes.attach(parsed_args.id, parsed_args.instance)
        return one(
            show_after_wait(self.app, volumes, answer, parsed_args), FIELDS
        )


class DetachVolume(TaskCommand):
    """Detach a data volume from its instance (it becomes available)."""

    def take_action(self, parsed_args):
        volumes = self.app.client.volumes
        answer = volumes.detach(parsed_args.id)
        return one(
            show_after_wait(self.app, volumes, answer, parsed_args), FIELDS
        )
