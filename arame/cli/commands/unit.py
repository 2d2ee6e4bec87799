"""Units: sets of identical nodes made from one spec, in a unit group."""

from __future__ import annotations

import re
from typing import Any

from cliff.columns import FormattableColumn

from arame.cli.commands.base import (
    Lister,
    ShowOne,
    add_wait_options,
    many,
    one,
    task_answer,
    text_file,
    wait_for_task,
)

FIELDS = (
    "id",
    "name",
    "unit_group",
    "unit_group_name",
    "state",
    "node_count",
    "spec",
    "nodes",
    "errors",
    "account_id",
    "created_at",
    "updated_at",
    "task_id",
)
LIST_FIELDS = (
    "id",
    "name",
    "unit_group_name",
    "state",
    "node_count",
    "provider",
    "flavor",
)
_UNIT_ID = re.compile(r"un-[a-z0-9]{8}")


class NodesColumn(FormattableColumn[list]):
    def human_readable(self) -> str:
        return "\n".join(
            " ".join(
                str(n.get(k) or "-")
                for k in ("name", "id", "status", "ip_address", "host")
            )
            for n in self._value or []
        )


class NodeErrorsColumn(FormattableColumn[list]):
    def human_readable(self) -> str:
        return "\n".join(
            f"{e.get('name')}: {e.get('reason')}" for e in self._value or []
        )


class SpecColumn(FormattableColumn[dict]):
    def human_readable(self) -> str:
        return ", ".join(
            f"{k}={v}" for k, v in (self._value or {}).items() if v
        )


FORMATTERS = {
    "nodes": NodesColumn,
    "errors": NodeErrorsColumn,
    "spec": SpecColumn,
}


def _add_group_option(parser, required: bool = False) -> None:
    parser.add_argument(
        "--unit-group",
        metavar="NAME_OR_ID",
        required=required,
        help="the unit group"
        + ("" if required else " a unit name is looked up in"),
    )


class _OnUnit(ShowOne):
    """A request on one unit (its id, or its name: unique among the
    caller's units, or within --unit-group) answered with a task."""

    action = ""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("unit", metavar="UNIT", help="unit name or ID")
        _add_group_option(parser)
        add_wait_options(parser)
        return parser

    def unit_ref(self, parsed_args) -> str:
        # The API finds a unit by name across the caller's groups; within
        # one group only through GET, so the id is asked for first.
        unit, group = parsed_args.unit, parsed_args.unit_group
        if group is None or _UNIT_ID.fullmatch(unit):
            return unit
        return self.app.client.units.get(unit, unit_group=group)["id"]

    def request(self, unit: str, parsed_args) -> dict[str, Any]:
        raise NotImplementedError

    def take_action(self, parsed_args):
        answer = self.request(self.unit_ref(parsed_args), parsed_args)
        return task_answer(
            self.app,
            parsed_args,
            parsed_args.unit,
            self.action,
            answer,
            len(answer.get("node_ids") or ()),
        )


class CreateUnit(ShowOne):
    """Create a unit of identical nodes in a unit group."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name")
        _add_group_option(parser, required=True)
        parser.add_argument(
            "--provider",
            choices=("vm", "bm"),
            default="vm",
            help="virtual machines (default) or bare-metal nodes",
        )
        parser.add_argument("--flavor", required=True, help="flavor name")
        parser.add_argument(
            "--image", required=True, metavar="NAME_OR_ID", help="image"
        )
        size = parser.add_mutually_exclusive_group()
        size.add_argument(
            "--count",
            type=int,
            metavar="N",
            help="number of nodes (default 1; 0 for an empty unit)",
        )
        size.add_argument(
            "--ip-address",
            action="append",
            dest="ip_addresses",
            metavar="ADDRESS",
            help="a node at this address (repeatable: one node each)",
        )
        parser.add_argument(
            "--root-gb",
            type=int,
            metavar="GiB",
            help="root disk size, larger than the flavor's",
        )
        parser.add_argument("--network", metavar="NAME_OR_ID")
        parser.add_argument(
            "--security-group",
            action="append",
            dest="security_groups",
            metavar="NAME_OR_ID",
            help="repeatable; default: the account's group 'default'",
        )
        parser.add_argument(
            "--key-pair",
            action="append",
            dest="key_pairs",
            metavar="NAME_OR_ID",
            help="repeatable: every key goes to every node",
        )
        parser.add_argument("--user-data", type=text_file, metavar="FILE")
        parser.add_argument(
            "--no-ha",
            dest="ha_enabled",
            action="store_false",
            default=None,
            help="do not restart the nodes on another host if theirs fails",
        )
        add_wait_options(parser)
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        spec = {
            "provider": a.provider,
            "flavor": a.flavor,
            "image": a.image,
            "root_gb": a.root_gb,
            "network": a.network,
            "security_groups": a.security_groups,
            "key_pairs": a.key_pairs,
            "user_data": a.user_data,
            "ha_enabled": a.ha_enabled,
        }
        units = self.app.client.units
        unit = units.create(
            a.unit_group,
            a.name,
            {k: v for k, v in spec.items() if v is not None},
            count=a.count,
            ip_addresses=a.ip_addresses,
        )
        if a.wait:
            wait_for_task(
                self.app, unit["task_id"], a.wait_timeout, unit["node_count"]
            )
            unit = {**units.get(unit["id"]), "task_id": unit["task_id"]}
        return one(unit, FIELDS, FORMATTERS)


class ListUnit(Lister):
    """List units (of one unit group, or all of yours)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_group_option(parser)
        parser.add_argument("--name", metavar="PATTERN", help="name glob")
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.units.list(
            parsed_args.unit_group, all=True, name=parsed_args.name
        )
        rows = [
            {
                **u,
                "provider": (u.get("spec") or {}).get("provider"),
                "flavor": (u.get("spec") or {}).get("flavor"),
            }
            for u in items
        ]
        return many(rows, LIST_FIELDS)


class ShowUnit(ShowOne):
    """Show a unit with its nodes and the errors of failed ones."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("unit", metavar="UNIT", help="unit name or ID")
        _add_group_option(parser)
        return parser

    def take_action(self, parsed_args):
        unit = self.app.client.units.get(
            parsed_args.unit, unit_group=parsed_args.unit_group
        )
        return one(unit, FIELDS, FORMATTERS)


class AddNodes(_OnUnit):
    """Add nodes like the unit's others: a count, or one per address."""

    action = "add_nodes"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        how = parser.add_mutually_exclusive_group(required=True)
        how.add_argument("--count", type=int, metavar="N")
        how.add_argument(
            "--ip-address",
            action="append",
            dest="ip_addresses",
            metavar="ADDRESS",
            help="a node at this address (repeatable)",
        )
        return parser

    def request(self, unit, parsed_args):
        return self.app.client.units.add_nodes(
            unit,
            count=parsed_args.count,
            ip_addresses=parsed_args.ip_addresses,
        )


class DeleteNodes(_OnUnit):
    """Delete some of a unit's nodes: by address, by node, or a count the
    server picks (failed nodes first, then the newest)."""

    action = "delete_nodes"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        how = parser.add_mutually_exclusive_group(required=True)
        how.add_argument(
            "--ip-address",
            action="append",
            dest="ip_addresses",
            metavar="ADDRESS",
            help="the node at this address (repeatable)",
        )
        how.add_argument(
            "--node",
            action="append",
            dest="node_ids",
            metavar="NAME_OR_ID",
            help="this node (repeatable)",
        )
        how.add_argument("--count", type=int, metavar="N")
        return parser

    def request(self, unit, parsed_args):
        a = parsed_args
        return self.app.client.units.delete_nodes(
            unit,
            ip_addresses=a.ip_addresses,
            node_ids=a.node_ids,
            count=a.count,
        )


class _Power(_OnUnit):
    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "--node",
            action="append",
            dest="node_ids",
            metavar="NAME_OR_ID",
            help="only this node (repeatable; default: every node)",
        )
        return parser

    def request(self, unit, parsed_args):
        units = self.app.client.units
        power = getattr(units, self.action)
        return power(unit, node_ids=parsed_args.node_ids)


class PowerOnUnit(_Power):
    """Start a unit's nodes (all, or those given)."""

    action = "power_on"


class PowerOffUnit(_Power):
    """Stop a unit's nodes (all, or those given)."""

    action = "power_off"


class DeleteUnit(_OnUnit):
    """Delete a unit with all its nodes."""

    action = "delete"

    def take_action(self, parsed_args):
        units = self.app.client.units
        unit = units.get(parsed_args.unit, unit_group=parsed_args.unit_group)
        answer = units.delete(unit["id"])
        return task_answer(
            self.app,
            parsed_args,
            unit["id"],
            self.action,
            answer,
            unit["node_count"],
        )
