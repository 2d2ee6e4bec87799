from __future__ import annotations

from arame.cli.commands.base import (
    Lister,
    ShowOne,
    add_wait_options,
    many,
    one,
    task_answer,
    wait_for_task,
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
LIST_FIELDS = ("id", "name", "status", "size_gb", "storage_node", "instance_id", "root_of")


def show_after_wait(app, manager, answer: dict, parsed_args) -> dict:
    """With --wait: the record as the task left it (the 202 predates it)."""
    if not parsed_args.wait:
        return answer
    wait_for_task(app, answer["task_id"], parsed_args.wait_timeout)
    return {**manager.get(answer["id"]), "task_id": answer["task_id"]}


class CreateVolume(ShowOne):
    """Create a volume: empty, from a raw image or from a snapshot."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name")
        parser.add_argument(
            "--size", type=int, dest="size_gb", metavar="GiB",
            help="size in GiB (default from an image or snapshot: theirs)",
        )
        origin = parser.add_mutually_exclusive_group()
        origin.add_argument("--image", help="raw image ID to copy")
        origin.add_argument("--snapshot", help="snapshot ID to clone")
        parser.add_argument(
            "--idempotency-key",
            help="repeat a create safely: the same key within 24 h creates once",
        )
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        volumes = self.app.client.volumes
        volume = volumes.create(a.name, a.size_gb, image=a.image, snapshot=a.snapshot,
                                idempotency_key=a.idempotency_key)
        return one(show_after_wait(self.app, volumes, volume, a), FIELDS)


class ListVolume(Lister):
    """List volumes (root volumes of instances included)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--status", help="only volumes in this status ('deleted' too)")
        parser.add_argument("--name", metavar="PATTERN", help="name glob, e.g. 'data*'")
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
        parser.add_argument("id", metavar="ID")
        return parser

    def take_action(self, parsed_args):
        return one(self.app.client.volumes.get(parsed_args.id), FIELDS)


class DeleteVolume(ShowOne):
    """Delete a volume (not attached, not a root volume, without snapshots)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="ID")
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        return task_answer(self.app, parsed_args, parsed_args.id, "delete",
                           self.app.client.volumes.delete(parsed_args.id))


class AttachVolume(ShowOne):
    """Attach an available volume to a running or stopped instance."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="ID")
        parser.add_argument("instance", metavar="INSTANCE", help="instance ID")
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        volumes = self.app.client.volumes
        answer = volumes.attach(parsed_args.id, parsed_args.instance)
        return one(show_after_wait(self.app, volumes, answer, parsed_args), FIELDS)


class DetachVolume(ShowOne):
    """Detach a data volume from its instance (it becomes available)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="ID")
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        volumes = self.app.client.volumes
        answer = volumes.detach(parsed_args.id)
        return one(show_after_wait(self.app, volumes, answer, parsed_args), FIELDS)
