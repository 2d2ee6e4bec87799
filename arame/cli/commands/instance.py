from __future__ import annotations

from arame.cli.columns import AddressesColumn, ListColumn
from arame.cli.commands.base import (
    Command,
    Lister,
    ShowOne,
    TaskCommand,
    add_wait_options,
    many,
    one,
    show_after_wait,
    task_answer,
    text_file,
)

FIELDS = (
    "id",
    "name",
    "hostname",
    "status",
    "status_reason",
    "flavor",
    "image",
    "root_gb",
    "key_pairs",
    "host",
    "addresses",
    "security_groups",
    "unit",
    "unit_group",
    "account_id",
    "created_at",
    "updated_at",
    "task_id",
)
LIST_FIELDS = ("id", "name", "status", "flavor", "image", "host", "addresses")
FORMATTERS = {
    "addresses": AddressesColumn,
    "security_groups": ListColumn,
    "key_pairs": ListColumn,
}


class CreateInstance(ShowOne):
    """Create an instance."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name")
        parser.add_argument("--flavor", required=True, help="flavor name")
        parser.add_argument(
            "--image", required=True, metavar="NAME_OR_ID", help="image"
        )
        parser.add_argument(
            "--network",
            metavar="NAME_OR_ID",
            help="network (default: the shared network 'default')",
        )
        parser.add_argument(
            "--ip-address", help="a fixed address on the network"
        )
        parser.add_argument(
            "--security-group",
            action="append",
            dest="security_groups",
            metavar="NAME_OR_ID",
            help="security group (repeatable; default: the account's "
            "group 'default')",
        )
        parser.add_argument(
            "--key-pair",
            action="append",
            dest="key_pairs",
            metavar="NAME_OR_ID",
            help="key pair whose public key the instance gets (repeatable)",
        )
        parser.add_argument(
            "--root-gb",
            type=int,
            metavar="GiB",
            help="root disk size, larger than the flavor's (default: the "
            "flavor's)",
        )
        parser.add_argument(
            "--hostname", help="default: derived from the name"
        )
        parser.add_argument("--user-data", type=text_file, metavar="FILE")
        parser.add_argument(
            "--idempotency-key",
            help="repeat a create safely: the same key within 24 h creates once",
        )
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        client = self.app.client
        instance = client.instances.create(
            parsed_args.name,
            parsed_args.flavor,
            parsed_args.image,
            network=parsed_args.network,
            ip_address=parsed_args.ip_address,
            security_groups=parsed_args.security_groups,
            key_pairs=parsed_args.key_pairs,
            root_gb=parsed_args.root_gb,
            hostname=parsed_args.hostname,
            user_data=parsed_args.user_data,
            idempotency_key=parsed_args.idempotency_key,
        )
        # With --wait: where it landed (the 202 answer predates scheduling).
        instance = show_after_wait(
            self.app, client.instances, instance, parsed_args
        )
        return one(instance, FIELDS, FORMATTERS)


class ListInstance(Lister):
    """List instances."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--status", help="only instances in this status")
        parser.add_argument(
            "--name", metavar="PATTERN", help="name glob, e.g. 'web*'"
        )
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.instances.list(
            all=True, status=parsed_args.status, name=parsed_args.name
        )
        return many(items, LIST_FIELDS, FORMATTERS)


class ShowInstance(ShowOne):
    """Show an instance."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        return one(
            self.app.client.instances.get(parsed_args.id), FIELDS, FORMATTERS
        )


class _ChangeInstance(TaskCommand):
    """Shared by delete and the actions: answer with the task to follow."""

    def request(self, instance_id: str) -> dict:
        return self.app.client.instances.action(instance_id, self.action)


class DeleteInstance(_ChangeInstance):
    """Delete an instance."""

    action = "delete"

    def request(self, instance_id: str) -> dict:
        return self.app.client.instances.delete(instance_id)


class SetInstanceSecurityGroups(TaskCommand):
    """Replace an instance's security groups, applied live on its host."""

    action = "set_security_groups"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "groups",
            nargs="+",
            metavar="GROUP",
            help="security group name or ID: the instance's whole new set",
        )
        return parser

    def take_action(self, parsed_args):
        instances = self.app.client.instances
        answer = instances.set_security_groups(
            parsed_args.id, parsed_args.groups
        )
        return task_answer(
            self.app, parsed_args, parsed_args.id, self.action, answer
        )


class StartInstance(_ChangeInstance):
    """Start a stopped instance."""

    action = "start"


class StopInstance(_ChangeInstance):
    """Stop a running instance."""

    action = "stop"


class RebootInstance(_ChangeInstance):
    """Reboot a running instance."""

    action = "reboot"


class ShowInstanceConsole(Command):
    """Print the tail of an instance's serial console."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        console = self.app.client.instances.console(parsed_args.id)
        output = console.get("output") or ""
        self.app.stdout.write(
            output if output.endswith("\n") or not output else output + "\n"
        )
        if console.get("truncated"):
            self.app.stderr.write(
                "(older output was cut; this is the last 64 KiB)\n"
            )
        return 0
