"""A /24 nothing in a network namespace uses yet, for a network a test
makes there.

Every deployment on a machine puts its bridges in the one lab namespace,
and nsa refuses a subnet another link there holds (dnsmasq would answer
DNS out of that link); other runs, tools/single-host among them, share it.
"""

import ipaddress
import random

from arame.common import runner


def free_subnet(netns: str, rng=random) -> str:
    """Free now; another run may take it before ours, which nsa then
    refuses by name."""
    out = runner.run(["ip", "-o", "-4", "addr"], netns=netns).stdout
    used = {
        ipaddress.ip_interface(line.split()[3]).network
        for line in out.splitlines()
    }
    for _ in range(100):
        net = ipaddress.IPv4Network(
            f"10.{rng.randrange(150, 200)}.{rng.randrange(256)}.0/24"
        )
        if not any(net.overlaps(u) for u in used):
            return str(net)
    raise AssertionError(f"no free /24 in namespace {netns}")
