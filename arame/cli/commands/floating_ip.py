"""arame floating-ip ...: addresses of an external network's pool, each
forwarded (DNAT in, SNAT out) to one instance address. A floating IP is
named by its id or by the address itself."""

from __future__ import annotations

from arame.cli.commands.base import (
    Lister,
    ShowOne,
    TaskCommand,
    many,
    one,
    show_after_wait,
    task_answer,
)

FIELDS = (
    "id",
    "address",
    "status",
    "network_id",
    "instance_id",
    "fixed_address",
    "router_id",
    "account_id",
    "created_at",
    "updated_at",
    "task_id",
)
LIST_FIELDS = (
    "id",
    "address",
    "status",
    "instance_id",
    "fixed_address",
    "network_id",
)
METAVAR = "ID_OR_ADDRESS"


def _shown(app, parsed_args, answer):
    """The answer, or with --wait the record as the task left it."""
    # A change that needed nothing on a host (a rename) has no task.
    if answer.get("task_id"):
        answer = show_after_wait(
            app,
            app.client.floating_ips,
            answer,
            parsed_args,
            answer.get("id") or parsed_args.id,
        )
    return one(answer, FIELDS)


class CreateFloatingIP(ShowOne):
    """Allocate a floating IP from an external network's pool (counts
    against the floating_ips quota)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "network", metavar="EXTERNAL_NETWORK", help="name or ID"
        )
        parser.add_argument(
            "--address", help="this address of the pool (default: any free)"
        )
        parser.add_argument(
            "--idempotency-key",
            help="repeat a create safely: the same key within 24 h "
            "allocates once",
        )
        return parser

    def take_action(self, parsed_args):
        fip = self.app.client.floating_ips.allocate(
            parsed_args.network,
            address=parsed_args.address,
            idempotency_key=parsed_args.idempotency_key,
        )
        return one(fip, FIELDS)


class ListFloatingIP(Lister):
    """List the account's floating IPs."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "--instance", metavar="NAME_OR_ID", help="only this instance's"
        )
        parser.add_argument(
            "--network",
            metavar="NAME_OR_ID",
            help="only those of this external network",
        )
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.floating_ips.list(
            all=True,
            instance=parsed_args.instance,
            network=parsed_args.network,
        )
        return many(items, LIST_FIELDS)


class ShowFloatingIP(ShowOne):
    """Show a floating IP."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar=METAVAR)
        return parser

    def take_action(self, parsed_args):
        return one(self.app.client.floating_ips.get(parsed_args.id), FIELDS)


class DeleteFloatingIP(TaskCommand):
    """Release a floating IP to the pool (disassociated first if needed:
    then there is a task to --wait for)."""

    action = "release"
    metavar = METAVAR

    def take_action(self, parsed_args):
        fip = self.app.client.floating_ips.resolve(parsed_args.id)
        answer = self.app.client.floating_ips.release(fip)
        if not answer.get("task_id"):
            # Released at once: nothing ran on a host.
            return one({"id": fip, "action": self.action}, ("id", "action"))
        return task_answer(self.app, parsed_args, fip, self.action, answer)


class AssociateFloatingIP(TaskCommand):
    """Forward a floating IP to an instance (to one of its addresses); the
    instance's network must be on a router whose gateway is the floating
    IP's network."""

    metavar = METAVAR

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "instance", metavar="INSTANCE", help="instance name or ID"
        )
        parser.add_argument(
            "--fixed-address",
            metavar="IP",
            help="which of the instance's addresses (default: its first)",
        )
        return parser

    def take_action(self, parsed_args):
        answer = self.app.client.floating_ips.associate(
            parsed_args.id,
            parsed_args.instance,
            ip_address=parsed_args.fixed_address,
        )
        return _shown(self.app, parsed_args, answer)


class DisassociateFloatingIP(TaskCommand):
    """Stop forwarding a floating IP (it stays allocated); open
    connections through it are cut."""

    metavar = METAVAR

    def take_action(self, parsed_args):
        answer = self.app.client.floating_ips.disassociate(parsed_args.id)
        return _shown(self.app, parsed_args, answer)
