"""arame host list|show|disable|enable|maintenance (admin): the machines
of the cloud, and a hypervisor taken out of service and put back (no new
instances on it; its guests stay)."""

from __future__ import annotations

from arame.cli.columns import ServicesColumn
from arame.cli.commands.base import Lister, ShowOne, many, one

LIST_FIELDS = (
    "name",
    "hypervisor_type",
    "state",
    "enabled",
    "maintenance",
    "vcpus",
    "vcpus_used",
    "memory_mb",
    "memory_mb_used",
    "disk_gb",
    "instances",
    "heartbeat_age_s",
    "services",
    "disabled_reason",
    "maintenance_reason",
)
FIELDS = (
    "id",
    "name",
    "state",
    "enabled",
    "disabled_reason",
    "maintenance",
    "maintenance_reason",
    "state_changed_by",
    "provider",
    "hypervisor_type",
    "vcpus",
    "vcpus_used",
    "memory_mb",
    "memory_mb_used",
    "disk_gb",
    "disk_gb_used",
    "instances",
    "heartbeat_age_s",
    "services",
)
FORMATTERS = {"services": ServicesColumn}


class ListHost(Lister):
    """List hosts with capacity, agent heartbeats and whether each takes
    new work (admin)."""

    def take_action(self, parsed_args):
        items = self.app.client.hosts.list(all=True)
        return many(items, LIST_FIELDS, FORMATTERS)


class ShowHost(ShowOne):
    """Show one host by name or id (admin)."""

    def get_parser(self, prog_name):
        p = super().get_parser(prog_name)
        p.add_argument("host", metavar="HOST", help="name or id")
        return p

    def take_action(self, a):
        return one(self.app.client.hosts.get(a.host), FIELDS, FORMATTERS)


class DisableHost(ShowHost):
    """Disable a hypervisor host: no new instances on it, its guests stay
    (admin)."""

    def get_parser(self, prog_name):
        p = super().get_parser(prog_name)
        p.add_argument("--reason", help="why (shown in host list)")
        return p

    def take_action(self, a):
        host = self.app.client.hosts.disable(a.host, reason=a.reason)
        return one(host, FIELDS, FORMATTERS)


class EnableHost(ShowHost):
    """Enable a disabled hypervisor host again (admin)."""

    def take_action(self, a):
        return one(self.app.client.hosts.enable(a.host), FIELDS, FORMATTERS)


class MaintenanceHost(ShowHost):
    """Put a hypervisor host in maintenance (no new instances, its guests
    stay), or take it out with --off (admin)."""

    def get_parser(self, prog_name):
        p = super().get_parser(prog_name)
        p.add_argument("--reason", help="why (shown in host list)")
        p.add_argument(
            "--off", action="store_true", help="take it out of maintenance"
        )
        return p

    def take_action(self, a):
        host = self.app.client.hosts.maintenance(
            a.host, on=not a.off, reason=a.reason
        )
        return one(host, FIELDS, FORMATTERS)
