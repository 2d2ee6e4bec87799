"""The "outside" of a single-host cloud: a network namespace standing for
the world beyond the external network, reached only through the routers.

It holds the external network's upstream address (203.0.113.1/24, a
documentation range: nothing real answers there) on one end of a veth
pair; the other end stays in the lab namespace, where it is the physical
device the L3 agent builds the external bridge on ([l3]
physical_networks `public:arame-ext0`). A listener started in this
namespace sees guests arrive from their router's address, and reaches a
guest only on its floating address.
"""

import os

from arame.deploy.infra.commands import run

OUTSIDE_NETNS = "arame-outside"
PHYSICAL_NETWORK = "public"
LAB_DEV = "arame-ext0"  # in the lab namespace: the external bridge's port
OUTSIDE_DEV = "arame-ext1"
UPSTREAM = "203.0.113.1/24"
CIDR = "203.0.113.0/24"


def ensure(
    lab_netns: str,
    netns: str = OUTSIDE_NETNS,
    lab_dev: str = LAB_DEV,
    outside_dev: str = OUTSIDE_DEV,
    address: str = UPSTREAM,
) -> None:
    """The namespace, its end of the veth with the upstream address, and
    the lab's end up (idempotent)."""
    for ns in (netns, lab_netns):
        if not os.path.exists(f"/run/netns/{ns}"):
            run(["ip", "netns", "add", ns])
    out = ["ip", "netns", "exec", netns]
    lab = ["ip", "netns", "exec", lab_netns]
    run(out + ["ip", "link", "set", "lo", "up"])
    if run(
        lab + ["ip", "-o", "link", "show", lab_dev], check=False
    ).returncode:
        run(
            lab
            + [
                "ip", "link", "add", lab_dev, "type", "veth",
                "peer", "name", outside_dev, "netns", netns,
            ]
        )  # fmt: skip
    have = run(out + ["ip", "-o", "addr", "show", "dev", outside_dev]).stdout
    if f" {address} " not in have:
        run(out + ["ip", "addr", "add", address, "dev", outside_dev])
    run(out + ["ip", "link", "set", outside_dev, "up"])
    run(lab + ["ip", "link", "set", lab_dev, "up"])


def remove(
    lab_netns: str, netns: str = OUTSIDE_NETNS, lab_dev: str = LAB_DEV
) -> None:
    """The namespace and the veth pair (either end takes the other)."""
    if os.path.exists(f"/run/netns/{lab_netns}"):
        run(
            ["ip", "netns", "exec", lab_netns, "ip", "link", "del", lab_dev],
            check=False,
        )
    if os.path.exists(f"/run/netns/{netns}"):
        run(["ip", "netns", "del", netns], check=False)


def remove_routers(prefix: str, router_ids) -> None:
    """The routers' namespaces (their veths go with them: the bridges'
    ends are the peers)."""
    for rid in sorted(router_ids):
        if os.path.exists(f"/run/netns/{prefix}{rid}"):
            run(["ip", "netns", "del", f"{prefix}{rid}"], check=False)
