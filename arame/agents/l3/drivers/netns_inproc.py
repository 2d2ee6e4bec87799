"""The kernel calls of a floating IP's association and disassociation
made from the agent's process, inside the router's namespace
(netns_thread): the nft transaction (libnft), the /32 (rtnl), the
gratuitous ARP (garp) and the flows cut (ctnl). No process starts on
that path.

Unavailable (no libnftables, not root, the namespace not joinable): the
driver runs the commands instead (netns_commands), which stay the path of
everything else (links, bridges, sysctls, listings, routes).
"""

import os

from oslo_log import log

from arame.agents.l3.drivers import base, ctnl, garp, libnft, rtnl
from arame.agents.l3.drivers.netns_thread import (
    NamespaceThreads,
    Stuck,
    Unavailable,
    resource,
)

LOG = log.getLogger(__name__)

__all__ = ["InProcess", "Unavailable"]


def _nft(text: str) -> None:
    resource("nft", libnft.Nft).run(text)


def _announce(dev: str, ips: list[str]) -> None:
    garp.announce(resource("arp", garp.open_socket), dev, ips)


class InProcess:
    def __init__(self, directory: str):
        self.threads = NamespaceThreads(directory)

    def _call(self, ns: str, fn, *args):
        try:
            return self.threads.call(ns, fn, *args)
        except Stuck as e:
            raise base.RouterError(str(e)) from e

    @classmethod
    def open(cls, directory: str) -> "InProcess | None":
        """None where it cannot work: the driver runs commands then."""
        if os.geteuid() != 0:
            return None
        if libnft.load() is None:
            LOG.info("no libnftables here: the L3 fast path runs nft")
            return None
        return cls(directory)

    def nft(self, ns: str, text: str) -> None:
        """An `nft -f` file in one transaction; RouterError if refused."""
        try:
            self._call(ns, _nft, text)
        except libnft.NftError as e:
            raise base.RouterError(f"nft: {e} (namespace {ns})") from e

    def addresses(self, ns: str, verb: str, dev: str, cidrs: list[str]):
        if not cidrs:
            return
        try:
            self._call(ns, rtnl.change_addresses, verb, dev, cidrs)
        except OSError as e:  # rtnl.NetlinkError: the kernel said no
            raise base.RouterError(f"{e} (namespace {ns})") from e

    def cut_flows(self, ns: str, ips: list[str]) -> None:
        """The conntrack entries to or from (after NAT) each of `ips`."""
        if not ips:
            return
        try:
            self._call(ns, ctnl.cut_flows, ips)
        except OSError as e:  # ctnl.NetlinkError: the kernel said no
            raise base.RouterError(f"{e} (namespace {ns})") from e

    def announce(self, ns: str, dev: str, ips: list[str]) -> None:
        if ips:
            self._call(ns, _announce, dev, ips)

    def drop(self, ns: str) -> None:
        self.threads.drop(ns)
