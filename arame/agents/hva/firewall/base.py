"""What the hypervisor driver needs from a host firewall.

One object per host (per lab namespace in tests). Every call is idempotent:
applying the same port twice leaves the same rules, removing a missing port
succeeds. The port dict is the RPC form documented in `port.Port.from_dict`.
"""

import abc


class Firewall(abc.ABC):
    def __init__(self, netns: str | None = None):
        self.netns = netns

    @abc.abstractmethod
    def setup(self) -> None:
        """Base chains and jumps; called when the agent starts."""

    @abc.abstractmethod
    def apply_port(self, port: dict) -> None:
        """Make the port's filtering exactly what its groups say; cut the
        established flows a removed permission allowed."""

    def apply_ports(self, ports: list[dict]) -> None:
        """apply_port for each, as one batch where the implementation can
        (a group change refreshes every member on the host at once)."""
        for port in ports:
            self.apply_port(port)

    @abc.abstractmethod
    def remove_port(self, instance_id: str) -> None:
        """Remove every chain, rule and unused set made for the port."""

    @abc.abstractmethod
    def set_group_members(self, group_id: str, ips: list[str]) -> None:
        """A group's members changed: update its set, no rule touched."""

    @abc.abstractmethod
    def ports(self) -> set[str]:
        """Instance ids that have chains on the host (for orphan cleanup)."""
