from __future__ import annotations

from arame.cli.columns import ServicesColumn
from arame.cli.commands.base import Lister, many

LIST_FIELDS = (
    "name",
    "hypervisor_type",
    "state",
    "vcpus",
    "vcpus_used",
    "memory_mb",
    "memory_mb_used",
    "disk_gb",
    "instances",
    "heartbeat_age_s",
    "services",
)


class ListHost(Lister):
    """List hosts with capacity and agent heartbeats (admin)."""

    def take_action(self, parsed_args):
        items = self.app.client.hosts.list(all=True)
        return many(items, LIST_FIELDS, {"services": ServicesColumn})
