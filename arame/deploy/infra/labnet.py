"""The lab network namespace libvirtd runs in: every tap, bridge and
firewall rule of a test or single-host guest lives there, away from the
host's own network."""

import os

from arame.deploy.infra.commands import run

LAB_NETNS = "arame-lab"
LAB_UNDERLAY = ("arame-ul0", "198.18.0.1/24")  # a benchmark-range address


def ensure(netns: str) -> None:
    """The namespace, its loopback up, and the underlay NIC."""
    if not os.path.exists(f"/run/netns/{netns}"):
        run(["ip", "netns", "add", netns])
    ns = ["ip", "netns", "exec", netns]
    run(ns + ["ip", "link", "set", "lo", "up"])
    dev, addr = LAB_UNDERLAY
    peer = dev[:-1] + "1"
    have = run(ns + ["ip", "-o", "link", "show", dev], check=False)
    if have.returncode != 0:
        # A veth pair stands for the underlay NIC (this kernel has no
        # dummy devices); VXLAN ports bind to its address.
        run(
            ns
            + ["ip", "link", "add", dev, "type", "veth", "peer", "name", peer]
        )
        run(ns + ["ip", "link", "set", peer, "up"])
        run(ns + ["ip", "addr", "add", addr, "dev", dev])
    run(ns + ["ip", "link", "set", dev, "up"])


def netns_of(pid: int) -> str | None:
    """The name of the namespace process `pid` is in; "" for our own."""
    try:
        ino = os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None
    if ino == os.stat("/proc/self/ns/net").st_ino:
        return ""
    for name in (
        os.listdir("/run/netns") if os.path.isdir("/run/netns") else ()
    ):
        try:
            if os.stat(os.path.join("/run/netns", name)).st_ino == ino:
                return name
        except OSError:
            continue
    return None


def remove_networks(netns: str, network_ids) -> None:
    """Tenant bridges (and their VXLAN ports) in the lab: those of the
    given networks, or (None) every one no guest is plugged into. A naming
    agent leaves its networks' bridges and addresses when it stops (a
    restart must not cut DHCP); a deployment that is dropped takes them
    along, or the next one finds the address on two bridges and answers
    through the stale one."""
    ns = ["ip", "netns", "exec", netns]
    links = run(ns + ["ip", "-o", "link"], check=False).stdout
    bridges = sorted(
        {
            line.split(": ")[1].split("@")[0]
            for line in links.splitlines()
            if ": nw-" in line
        }
    )
    for br in bridges:
        if network_ids is not None and br not in network_ids:
            continue
        ports = [
            line
            for line in links.splitlines()
            if f"master {br} " in line and ": vx-" not in line
        ]
        if network_ids is None and ports:
            continue
        run(ns + ["ip", "link", "del", f"vx-{br[3:]}"], check=False)
        run(ns + ["ip", "link", "del", br], check=False)
