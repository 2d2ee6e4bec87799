"""arame router ...: join the account's networks to each other and to an
external network (SNAT). Every change is applied by a task (--wait)."""

from __future__ import annotations

from cliff.columns import FormattableColumn

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
    "error",
    "host",
    "external_network",
    "external_address",
    "networks",
    "floating_ips",
    "account_id",
    "created_at",
    "updated_at",
    "task_id",
)
LIST_FIELDS = (
    "id",
    "name",
    "status",
    "external_network",
    "external_address",
    "networks",
    "floating_ips",
)


class InterfacesColumn(FormattableColumn[list]):
    """The attached networks, one a line: the router's address on each
    (``10.0.0.1 on nw-aaaaaaaa (10.0.0.0/24)``)."""

    def human_readable(self) -> str:
        return "\n".join(
            f"{n.get('address')} on {n.get('id')} ({n.get('cidr')})"
            for n in self._value or []
        )


FORMATTERS = {"networks": InterfacesColumn}


def _shown(app, parsed_args, answer, router):
    """The answer, or with --wait the record as the task left it (status
    active or error); `router` names it where the answer has no id."""
    # A change that needed nothing on a host (a rename) has no task.
    if answer.get("task_id"):
        answer = show_after_wait(
            app,
            app.client.routers,
            answer,
            parsed_args,
            answer.get("id") or router,
        )
    return one(answer, FIELDS, FORMATTERS)


class CreateRouter(ShowOne):
    """Create a router for the account's networks, optionally with an
    external network as its gateway."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="NAME")
        parser.add_argument(
            "--external-network",
            metavar="NAME_OR_ID",
            help="external network to reach the outside through (SNAT)",
        )
        parser.add_argument(
            "--network",
            action="append",
            dest="networks",
            metavar="NAME_OR_ID",
            help="a network of the account to attach (repeatable)",
        )
        parser.add_argument(
            "--idempotency-key",
            help="repeat a create safely: the same key within 24 h creates once",
        )
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        answer = self.app.client.routers.create(
            a.name,
            external_network=a.external_network,
            networks=a.networks,
            idempotency_key=a.idempotency_key,
        )
        return _shown(self.app, a, answer, a.name)


class ListRouter(Lister):
    """List the account's routers."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--name", metavar="PATTERN", help="name glob")
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.routers.list(all=True, name=parsed_args.name)
        return many(items, LIST_FIELDS, FORMATTERS)


class ShowRouter(ShowOne):
    """Show a router: its networks, gateway and state."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        return one(
            self.app.client.routers.get(parsed_args.id), FIELDS, FORMATTERS
        )


class SetRouter(TaskCommand):
    """Rename a router."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--name", required=True, help="its new name")
        return parser

    def take_action(self, parsed_args):
        answer = self.app.client.routers.update(
            parsed_args.id, name=parsed_args.name
        )
        return _shown(self.app, parsed_args, answer, parsed_args.id)


class DeleteRouter(TaskCommand):
    """Delete a router (refused while floating IPs are associated through
    it); its networks stay."""

    action = "delete"

    def request(self, router: str) -> dict:
        return self.app.client.routers.delete(router)


class _RouterNetworkCommand(TaskCommand):
    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("network", metavar="NETWORK", help=self.network)
        return parser

    network = ""

    def change(self, router: str, network: str) -> dict:
        raise NotImplementedError

    def take_action(self, parsed_args):
        answer = self.change(parsed_args.id, parsed_args.network)
        return _shown(self.app, parsed_args, answer, parsed_args.id)


class AddRouterNetwork(_RouterNetworkCommand):
    """Attach a network of the account to a router (the router takes the
    network's gateway address)."""

    network = "network name or ID"

    def change(self, router, network):
        return self.app.client.routers.add_network(router, network)


class RemoveRouterNetwork(_RouterNetworkCommand):
    """Detach a network from a router."""

    network = "network name or ID"

    def change(self, router, network):
        return self.app.client.routers.remove_network(router, network)


class SetRouterGateway(_RouterNetworkCommand):
    """Give a router an external network as gateway: its attached networks
    reach the outside through SNAT on the router's external address."""

    network = "external network name or ID"

    def change(self, router, network):
        return self.app.client.routers.set_gateway(router, network)


class UnsetRouterGateway(TaskCommand):
    """Take a router's gateway away (its networks still route to each
    other)."""

    def take_action(self, parsed_args):
        answer = self.app.client.routers.unset_gateway(parsed_args.id)
        return _shown(self.app, parsed_args, answer, parsed_args.id)
