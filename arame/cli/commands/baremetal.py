"""`arame baremetal node create|list|show|manage|provide|delete` (admin).

The BMC password is read from --bmc-password-file or a prompt, never from
the command line (where `ps` and shell history would keep it).
"""

from __future__ import annotations

import getpass

from arame.cli.commands.base import (
    Command,
    Lister,
    ShowOne,
    TaskCommand,
    many,
    one,
    show_after_wait,
)
from arame.sdk.resources.baremetal import BaremetalNodeManager

FIELDS = (
    "id",
    "name",
    "provision_state",
    "status_reason",
    "power_state",
    "maintenance",
    "maintenance_reason",
    "instance_id",
    "bmc_address",
    "bmc_port",
    "bmc_username",
    "bmc_interface",
    "bma_host",
    "macs",
    "cpus",
    "memory_mb",
    "disk_gb",
    "resource_class",
    "created_at",
    "updated_at",
    "task_id",
)
LIST_FIELDS = (
    "id",
    "name",
    "provision_state",
    "power_state",
    "maintenance",
    "instance_id",
    "cpus",
    "memory_mb",
    "disk_gb",
)


def nodes(app) -> BaremetalNodeManager:
    # The SDK client gains `baremetal_nodes` with this release; until then
    # the manager is made over its session.
    manager = getattr(app.client, "baremetal_nodes", None)
    return manager or BaremetalNodeManager(app.client._session)


def _password(path: str | None) -> str:
    if path:
        with open(path) as f:
            return f.readline().rstrip("\n")
    return getpass.getpass("BMC password: ")


class CreateNode(ShowOne):
    """Enroll a bare-metal node (then `manage` it)."""

    def get_parser(self, prog_name):
        p = super().get_parser(prog_name)
        p.add_argument("name")
        p.add_argument("--bmc-address", required=True)
        p.add_argument("--bmc-port", type=int, default=623)
        p.add_argument("--bmc-username", required=True)
        p.add_argument(
            "--bmc-password-file",
            metavar="PATH",
            help="file whose first line is the BMC password (default: prompt)",
        )
        p.add_argument("--bmc-interface", choices=("lanplus", "lan"))
        p.add_argument(
            "--mac",
            action="append",
            required=True,
            dest="macs",
            help="a NIC; the first one PXE-boots",
        )
        p.add_argument("--cpus", type=int, required=True)
        p.add_argument(
            "--memory",
            type=int,
            required=True,
            dest="memory_mb",
            metavar="MiB",
        )
        p.add_argument(
            "--disk", type=int, required=True, dest="disk_gb", metavar="GiB"
        )
        p.add_argument("--resource-class", help="the bm flavor it serves")
        return p

    def take_action(self, a):
        node = nodes(self.app).create(
            a.name,
            bmc_address=a.bmc_address,
            bmc_port=a.bmc_port,
            bmc_username=a.bmc_username,
            bmc_password=_password(a.bmc_password_file),
            macs=a.macs,
            cpus=a.cpus,
            memory_mb=a.memory_mb,
            disk_gb=a.disk_gb,
            bmc_interface=a.bmc_interface,
            resource_class=a.resource_class,
        )
        return one(node, FIELDS)


class ListNode(Lister):
    """List bare-metal nodes."""

    def get_parser(self, prog_name):
        p = super().get_parser(prog_name)
        p.add_argument("--status", help="only nodes in this provision state")
        p.add_argument("--name", metavar="PATTERN")
        return p

    def take_action(self, a):
        return many(
            nodes(self.app).list(all=True, status=a.status, name=a.name),
            LIST_FIELDS,
        )


class ShowNode(ShowOne):
    """Show a bare-metal node."""

    def get_parser(self, prog_name):
        p = super().get_parser(prog_name)
        p.add_argument("id", metavar="ID")
        return p

    def take_action(self, a):
        return one(nodes(self.app).get(a.id), FIELDS)


class _NodeAction(TaskCommand):
    metavar = "ID"
    """With --wait, the node as the task left it (not the task)."""

    def take_action(self, a):
        manager = nodes(self.app)
        answer = getattr(manager, self.action)(a.id)
        return one(show_after_wait(self.app, manager, answer, a, a.id), FIELDS)


class ManageNode(_NodeAction):
    """Check the node's BMC: `manageable`, or `error` with the reason."""

    action = "manage"


class ProvideNode(_NodeAction):
    """Power the node off and offer it to the scheduler (`available`)."""

    action = "provide"


class DeleteNode(Command):
    """Delete a node that holds no instance."""

    def get_parser(self, prog_name):
        p = super().get_parser(prog_name)
        p.add_argument("id", metavar="ID")
        return p

    def take_action(self, a):
        nodes(self.app).delete(a.id)
        return 0
