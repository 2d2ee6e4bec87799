"""The commands of the netns router driver, each one process run with an
argument list: its failure a RouterError naming the namespace.

An association runs none of them where netns_inproc works (libnftables
found, the agent root); where it does not, its path counts its processes:
`ip -n` enters the router's namespace itself (no nsenter), nft takes a
whole transaction from one `nft -f -`.
"""

import ipaddress
import json
import shutil
from concurrent import futures

from oslo_log import log

from arame.agents.l3.drivers import base, nft_rules
from arame.common import runner

LOG = log.getLogger(__name__)

TIMEOUT = 30.0


def run(args, netns, *, ok_codes=(0,), input=None, timeout=TIMEOUT):
    try:
        return runner.run(
            args,
            netns=netns,
            timeout=timeout,
            ok_codes=ok_codes,
            input=input,
        )
    except runner.CommandError as e:
        raise base.RouterError(
            f"{' '.join(args[:4])}…: {e.stderr.strip() or e}"
            + (f" (namespace {netns})" if netns else "")
        ) from e


def addr_batch(ns: str, verb: str, items: list[str]) -> None:
    """`ip addr <verb> <item>` for each item, in one process."""
    if not items:
        return
    lines = "".join(f"addr {verb} {item}\n" for item in items)
    # `ip -n` enters the namespace itself: no nsenter process.
    run(["ip", "-n", ns, "-batch", "-"], None, input=lines)


def loaded_ruleset(ns: str) -> tuple[str | None, dict[str, str]]:
    """(digest, fip_dnat's pairs) of the table loaded now."""
    res = run(
        ["nft", "-j", "list", "table", "ip", nft_rules.TABLE],
        ns,
        ok_codes=(0, 1),
    )
    if res.exit_code:
        return None, {}
    digest, mapped = None, {}
    for item in json.loads(res.stdout or "{}").get("nftables", []):
        rule = item.get("rule")
        if rule and rule.get("comment"):
            digest = digest or nft_rules.digest(rule["comment"])
        m = item.get("map")
        if m and m.get("name") == "fip_dnat":
            for elem in m.get("elem", []):
                if isinstance(elem, list) and len(elem) == 2:
                    mapped[str(elem[0])] = str(elem[1])
    return digest, mapped


def cut_flows(ns: str, ip: str) -> None:
    ipaddress.IPv4Address(ip)  # checked: it came from the kernel
    for direction in ("--orig-dst", "--reply-dst"):
        # exit 1: no flow matched
        run(["conntrack", "-D", direction, ip], ns, ok_codes=(0, 1))


def ensure_default_route(router: base.RouterSpec, ns: str) -> None:
    gw = router.gateway
    want = str(gw.next_hop) if gw and gw.next_hop else None
    routes = json.loads(
        run(["ip", "-j", "route", "show", "default"], ns).stdout or "[]"
    )
    have = [(r.get("gateway"), r.get("dev")) for r in routes]
    if want and have != [(want, base.EXTERNAL_DEV)]:
        run(
            [
                "ip",
                "route",
                "replace",
                "default",
                "via",
                want,
                "dev",
                base.EXTERNAL_DEV,
            ],
            ns,
        )
    elif not want and have:
        run(["ip", "route", "del", "default"], ns)


class Announcer:
    """Gratuitous ARPs from a router's qg0, with the arping found here
    (none: nothing announced, said once per call)."""

    def __init__(self):
        self.command = arping_command()

    def announce(self, ns: str, addresses: list[str]) -> None:
        """Gratuitous ARP for each new address on qg0: the upstream router
        learns its MAC now, not when its cache of an older owner (another
        router that held the floating IP) expires."""
        ips = [a.split("/")[0] for a in addresses]
        if not ips:
            return
        if self.command is None:
            LOG.info("no arping here: %s not announced", ", ".join(ips))
            return
        if len(ips) == 1:
            self._arp(ns, ips[0])
            return
        # A whole router made at once (a resync after a restart): each
        # arping waits a little for nothing; in parallel.
        with futures.ThreadPoolExecutor(min(8, len(ips))) as pool:
            list(pool.map(lambda ip: self._arp(ns, ip), ips))

    def _arp(self, ns: str, ip: str) -> None:
        args = self.command + ["-I", base.EXTERNAL_DEV, "-s", ip, ip]
        try:
            run(args, ns, timeout=5)
        except base.RouterError as e:
            LOG.warning("gratuitous ARP for %s failed: %s", ip, e)


def arping_command() -> list[str] | None:
    """busybox's arping, else iputils' (both take -U -c -I -s)."""
    busybox = shutil.which("busybox")
    if busybox:
        try:
            listed = runner.run([busybox, "--list"], timeout=5).stdout
        except runner.CommandError:
            listed = ""
        if "arping" in listed.split():
            # -w 0: send and go; with no deadline it waits ~20 ms for an
            # answer that an unsolicited ARP never gets
            return [busybox, "arping", "-U", "-c", "1", "-w", "0"]
    arping = shutil.which("arping")
    if arping:
        return [arping, "-U", "-c", "1"]
    return None
