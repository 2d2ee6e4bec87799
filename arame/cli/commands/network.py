from __future__ import annotations

import argparse

from arame.cli.columns import RangesColumn
from arame.cli.commands.base import Command, Lister, ShowOne, many, one

FIELDS = (
    "id",
    "name",
    "cidr",
    "gateway",
    "dhcp_ranges",
    "dns_domain",
    "segmentation",
    "segment_id",
    "mtu",
    "shared",
    "external",
    "physical_network",
    "dhcp_address",
    "account_id",
    "created_at",
    "updated_at",
)
LIST_FIELDS = (
    "id",
    "name",
    "cidr",
    "segmentation",
    "segment_id",
    "shared",
    "external",
)
FORMATTERS = {"dhcp_ranges": RangesColumn}


def _range(text: str) -> list[str]:
    first, sep, last = text.partition("-")
    if not sep or not first or not last:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected FIRST-LAST, e.g. 10.0.0.10-10.0.0.99"
        )
    return [first, last]


class CreateNetwork(ShowOne):
    """Create a network."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="NAME")
        parser.add_argument("--cidr", required=True, help="e.g. 10.1.0.0/24")
        parser.add_argument(
            "--dns-domain",
            required=True,
            help="domain of the instances' names",
        )
        parser.add_argument(
            "--segmentation",
            choices=("vxlan", "vlan", "flat"),
            default="vxlan",
            help="flat: external networks only (the device itself)",
        )
        parser.add_argument(
            "--segment-id",
            type=int,
            help="VXLAN VNI or VLAN id (default: a free one)",
        )
        parser.add_argument(
            "--gateway", help="default: the first host address"
        )
        parser.add_argument(
            "--dhcp-range",
            type=_range,
            action="append",
            dest="dhcp_ranges",
            metavar="FIRST-LAST",
            help="addresses to hand out (repeatable; default: "
            "every host address but the gateway and the DHCP server's)",
        )
        parser.add_argument("--mtu", type=int)
        parser.add_argument(
            "--shared",
            action="store_true",
            default=None,
            help="usable by every account (admin)",
        )
        parser.add_argument(
            "--external",
            action="store_true",
            default=None,
            help="an external network for routers and floating IPs, its "
            "DHCP ranges the pool (admin; needs --physical-network)",
        )
        parser.add_argument(
            "--physical-network",
            metavar="NAME",
            help="external: which [l3] physical_networks entry carries it",
        )
        return parser

    def take_action(self, parsed_args):
        a = parsed_args
        net = self.app.client.networks.create(
            a.name,
            a.cidr,
            a.dns_domain,
            a.segmentation,
            segment_id=a.segment_id,
            gateway=a.gateway,
            dhcp_ranges=a.dhcp_ranges,
            mtu=a.mtu,
            shared=a.shared,
            external=a.external,
            physical_network=a.physical_network,
        )
        return one(net, FIELDS, FORMATTERS)


class ListNetwork(Lister):
    """List networks (the account's own, the shared and the external
    ones)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--name", metavar="PATTERN", help="name glob")
        return parser

    def take_action(self, parsed_args):
        items = self.app.client.networks.list(all=True, name=parsed_args.name)
        return many(items, LIST_FIELDS)


class ShowNetwork(ShowOne):
    """Show a network."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        return one(
            self.app.client.networks.get(parsed_args.id), FIELDS, FORMATTERS
        )


class DeleteNetwork(Command):
    """Delete a network no instance has an address on."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("id", metavar="NAME_OR_ID")
        return parser

    def take_action(self, parsed_args):
        self.app.client.networks.delete(parsed_args.id)
        return 0
